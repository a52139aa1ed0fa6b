#pragma once
// What the installing step kinds (apt, debs, driver, installers, builds, venv, kernel) share:
// kernel headers and compilers, dpkg's view of installed packages, apt-get
// runs with the image's own or only its local (file:) sources, and artifacts staged inside
// the image for the duration of a step. Throws ccbake::Error with a hint on failure.
#include "steps/context.h"
#include "target/files.h"
#include "target/kernels.h"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace ccbake::steps::install {

// Whether the kernel's headers (/lib/modules/KVER/build) are in the image.
bool has_headers(const StepContext& ctx, const std::string& kernel);

// The compiler a kernel was built with, from CONFIG_CC_VERSION_TEXT in its headers' .config
// (e.g. "x86_64-linux-gnu-gcc-12 (Ubuntu 12.3.0-1ubuntu1~22.04) 12.3.0"): the program to pass
// as CC (the name the kernel's build used when it carries the major version, else gcc-MAJOR)
// and the Debian package that provides it. Empty `program` when the text names none.
struct KernelCompiler {
    std::string text, program, package;
};
KernelCompiler parse_cc_version_text(const std::string& config);
// Reads /lib/modules/KERNEL/build/.config in the image; empty when it has no such line.
KernelCompiler kernel_compiler(const StepContext& ctx, const std::string& kernel);
// Steps that build kernel modules: the kernel's compiler, installed from the image's own
// sources when missing. Returns CC's value ("" when the headers name none) and appends one
// line per change to `changes`; throws when the compiler cannot be had.
std::string ensure_kernel_compiler(StepContext& ctx, const std::string& kernel,
                                   std::vector<std::string>& changes);

// Installed packages (dpkg status "install ok installed"): name -> version.
std::map<std::string, std::string> installed_packages(StepContext& ctx);

// One line per package that appeared, changed version or went away between two snapshots.
std::vector<std::string> package_changes(const std::map<std::string, std::string>& before,
                                         const std::map<std::string, std::string>& after);

// Runs an argv with network access for the image (host DNS) only while it runs.
class NetworkWhile {
  public:
    NetworkWhile(Target& target, bool on);
    ~NetworkWhile();
    NetworkWhile(const NetworkWhile&) = delete;
    NetworkWhile& operator=(const NetworkWhile&) = delete;

  private:
    Target& target_;
    bool on_;
};

// A directory under the image's /var/tmp for the step's staged files; removed on destruction.
class Staging {
  public:
    explicit Staging(const StepContext& ctx);
    ~Staging();
    Staging(const Staging&) = delete;
    Staging& operator=(const Staging&) = delete;
    const std::string& inside() const { return inside_; }
    // Copies a verified artifact into the staging directory; returns its path in the image.
    std::string copy_artifact(const std::string& artifact, const std::string& filename);

  private:
    const StepContext& ctx_;
    std::string inside_;
};

// apt-get options that restrict apt to the image's local file: sources (sources.list and
// *.list files), without touching its other lists or cache; the list is written into
// `staging`. Throws when there is none.
std::vector<std::string> hermetic_apt_options(const StepContext& ctx, const Staging& staging);
// apt-get options that use `list` (a file in the image) as the only source, without touching
// apt's other lists or its caches.
std::vector<std::string> only_sources(const StepContext& ctx, const Staging& staging,
                                      const std::string& list);

// Refreshes apt's lists of the image's own sources once per bake (stock cloud images ship
// with none, and lists from an earlier bake are stale): before the first step that installs
// from them, and again when `force` (a step's `update: true`). Needs the network on.
void refresh_apt_lists(StepContext& ctx, bool force = false);

// Installs `packages` the image lacks from its own sources (lists refreshed first, network on
// while apt runs), for what a step needs beside the recipe's packages (a venv module, the
// kernel's compiler). Returns one line per package installed; nothing when all are there.
std::vector<std::string> ensure_packages(StepContext& ctx, const std::vector<std::string>& packages,
                                         const std::string& why);

// Runs apt-get (argv after "apt-get"); turns "Unable to locate package X" and friends into an
// error that names the package.
void apt_get(StepContext& ctx, const std::vector<std::string>& args, const std::string& what);

// Extracts an artifact (confined, archive/extract.h) to `dest` in the image when `dest` is
// absent; returns whether it extracted.
bool extract_artifact(const StepContext& ctx, const std::string& artifact, const std::string& dest,
                      unsigned strip_components);

} // namespace ccbake::steps::install
