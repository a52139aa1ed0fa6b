// nvidia_driver: run NVIDIA's makeself .run installer in the image for the image's kernel,
// with the open kernel modules that confidential computing needs.
#include "steps/install_support.h"
#include "steps/kinds.h"
#include "util/error.h"
#include "util/process.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <fstream>

namespace ccbake::steps {

using recipe::FieldType;

namespace {

const char* kInstallerLog = "/var/log/nvidia-installer.log";

// The kernel the modules are built for: the recipe's, or the newest in the image that meets
// base.min_kernel. Never the host's.
std::string target_kernel(const StepContext& ctx, const recipe::Step& s) {
    const std::string wanted = text(s.spec, "kernel");
    if (wanted != "auto") {
        if (!target::is_dir(ctx.target.root(), "/lib/modules/" + wanted))
            throw Error(
                fmt::format("kernel {} is not installed in the image (/lib/modules/{} is missing)",
                            wanted, wanted),
                "install it first (a kernel step), or set kernel: auto");
        return wanted;
    }
    auto kernels = target::kernels_at_least(ctx.target.root(), ctx.recipe.base.min_kernel);
    if (kernels.empty())
        throw Error(fmt::format("the image has no kernel >= {} to build the NVIDIA modules for",
                                ctx.recipe.base.min_kernel),
                    "add a kernel step before nvidia_driver");
    return kernels.front();
}

bool module_installed(const StepContext& ctx, const std::string& kernel) {
    for (const char* dir : {"updates/dkms", "kernel/drivers/video", "extra", "updates"})
        for (const char* ext : {"", ".xz", ".zst", ".gz"})
            if (target::exists(ctx.target.root(),
                               fmt::format("/lib/modules/{}/{}/nvidia.ko{}", kernel, dir, ext)))
                return true;
    return false;
}

// dkms keeps what it built and installed under /var/lib/dkms/MODULE/VERSION/KERNEL.
bool dkms_installed(const StepContext& ctx, const recipe::Step& s, const std::string& kernel) {
    return target::is_dir(ctx.target.root(), fmt::format("/var/lib/dkms/nvidia/{}/{}",
                                                         text(s.spec, "version"), kernel));
}

bool driver_installed(const StepContext& ctx, const recipe::Step& s, const std::string& kernel) {
    return target::exists(ctx.target.root(),
                          "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so." + text(s.spec, "version")) &&
           module_installed(ctx, kernel);
}

std::string indent_lines(std::string t) {
    for (size_t pos = 0; (pos = t.find('\n', pos)) != std::string::npos; pos += 5)
        t.replace(pos, 1, "\n    ");
    return t;
}

void run_installer(StepContext& ctx, const recipe::Step& s, const std::string& kernel,
                   const std::string& cc) {
    install::Staging staging(ctx);
    const auto* art = ctx.recipe.artifact(text(s.spec, "artifact"));
    std::string file = staging.copy_artifact(
        text(s.spec, "artifact"),
        art && !art->filename.empty() ? art->filename : "nvidia-installer.run");
    std::vector<std::string> argv = {"sh", file, "--silent",
                                     "--kernel-module-type=" + text(s.spec, "module_type"),
                                     "--kernel-name=" + kernel,
                                     // The build host's kernel stays untouched: no test load of
                                     // the new modules, no unloading of nouveau.
                                     "--skip-module-load", "--no-nouveau-check"};
    if (flag(s.spec, "dkms")) argv.push_back("--dkms");
    for (const auto& a : texts(s.spec, "extra_args"))
        argv.push_back(a);
    ctx.progress(fmt::format("NVIDIA installer for kernel {}", kernel));
    util::RunOptions o;
    o.log = ctx.log;
    o.timeout = std::chrono::seconds(3600);
    o.cwd = staging.inside();
    // nvidia-installer and the dkms build it starts compile with $CC (default cc): on Ubuntu
    // 22.04 that is gcc-11, while the HWE kernel was built with gcc-12, whose flags gcc-11
    // rejects. The kernel's own compiler is passed explicitly.
    if (!cc.empty()) o.env["CC"] = cc;
    auto r = ctx.target.run(argv, o);
    if (r.exit_code == 0) return;
    Error e(fmt::format("the NVIDIA installer failed for kernel {} ({})", kernel,
                        r.timed_out ? "timed out" : fmt::format("exit status {}", r.exit_code)),
            fmt::format("its own log is {} in the image and is copied into {}", kInstallerLog,
                        ctx.log.string()));
    e.add_context("command: " + util::join(argv, " "));
    // What the installer printed (option errors come before its log is written), then its log.
    const std::string printed = util::file_tail(ctx.log, 4);
    if (!printed.empty()) e.add_context("installer output:\n    " + indent_lines(printed));
    std::string log =
        util::file_tail(target::resolve_in_root(ctx.target.root(), kInstallerLog), 15);
    if (!log.empty()) {
        std::ofstream(ctx.log, std::ios::app) << "\n--- " << kInstallerLog << " ---\n"
                                              << log << "\n";
        e.add_context("installer log:\n    " + indent_lines(log));
    }
    throw e;
}

StepResult apply_nvidia_driver(StepContext& ctx, const recipe::Step& s) {
    StepResult result;
    const std::string kernel = target_kernel(ctx, s);
    if (!driver_installed(ctx, s, kernel)) {
        if (!install::has_headers(ctx, kernel))
            throw Error(
                fmt::format("the headers of kernel {} are not in the image (/lib/modules/{}/build "
                            "is missing)",
                            kernel, kernel),
                fmt::format(
                    "install linux-headers-{} first (the kernel step does, with headers: true)",
                    kernel));
        std::vector<std::string> setup; // what the build needed installed first
        const std::string cc = install::ensure_kernel_compiler(ctx, kernel, setup);
        // With --dkms and no dkms in the image, nvidia-installer only warns and installs the
        // modules unregistered: a later kernel would boot without them.
        const bool dkms = flag(s.spec, "dkms");
        if (dkms)
            for (auto& c : install::ensure_packages(ctx, {"dkms"}, "for --dkms"))
                setup.push_back(c);
        run_installer(ctx, s, kernel, cc);
        if (!module_installed(ctx, kernel))
            throw Error(
                fmt::format(
                    "the NVIDIA installer finished but installed no nvidia module for kernel {}",
                    kernel),
                fmt::format("see {} in the image", kInstallerLog));
        if (dkms && !dkms_installed(ctx, s, kernel))
            throw Error(fmt::format("the NVIDIA installer did not register its modules with DKMS "
                                    "for kernel {} (no /var/lib/dkms/nvidia/{}/{})",
                                    kernel, text(s.spec, "version"), kernel),
                        fmt::format("see the DKMS lines of {} in the image", kInstallerLog));
        result.changes.push_back(fmt::format(
            "installed NVIDIA driver {} ({} modules{}) for kernel {}", text(s.spec, "version"),
            text(s.spec, "module_type"), dkms ? ", dkms" : "", kernel));
        result.changes.insert(result.changes.end(), setup.begin(), setup.end());
    }
    if (flag(s.spec, "blacklist_nouveau") &&
        target::write_if_changed(ctx.target.root(), "/etc/modprobe.d/nvidia-blacklist-nouveau.conf",
                                 "# Written by ccbake: the NVIDIA driver needs nouveau unloaded.\n"
                                 "blacklist nouveau\noptions nouveau modeset=0\n"))
        result.changes.push_back(
            "/etc/modprobe.d/nvidia-blacklist-nouveau.conf: blacklist nouveau");
    if (flag(s.spec, "lkca") &&
        target::write_if_changed(
            ctx.target.root(), "/etc/modprobe.d/nvidia-lkca.conf",
            "# Written by ccbake: LKCA (confidential computing) needs these crypto modules\n"
            "# before nvidia.\nsoftdep nvidia pre: ecdsa_generic ecdh\n"))
        result.changes.push_back(
            "/etc/modprobe.d/nvidia-lkca.conf: softdep nvidia pre: ecdsa_generic ecdh");
    if (flag(s.spec, "update_initramfs") && !result.changes.empty()) {
        const bool exists = target::exists(ctx.target.root(), "/boot/initrd.img-" + kernel);
        ctx.run_or_fail({"update-initramfs", exists ? "-u" : "-c", "-k", kernel},
                        fmt::format("update-initramfs failed for kernel {}", kernel));
        result.changes.push_back(
            fmt::format("update-initramfs {} -k {}", exists ? "-u" : "-c", kernel));
    }
    return result;
}

} // namespace

const StepKind& nvidia_driver_kind() {
    static const StepKind kind{
        .name = "nvidia_driver",
        .summary = "Install the NVIDIA driver from its .run installer for the image's kernel.",
        .details = "Run offline with no GPU visible, the installer would pick the proprietary "
                   "modules; confidential computing needs the open ones. ccbake always passes "
                   "`--silent --kernel-module-type=open --kernel-name=KERNEL` (the image's kernel, "
                   "never the host's), `--skip-module-load --no-nouveau-check` (the build host's "
                   "kernel stays untouched) and `--dkms` unless disabled (dkms is installed first "
                   "when the image lacks it, and the modules must end up registered with it), with "
                   "`CC` set to the compiler the kernel was built with (from its headers' "
                   "`CONFIG_CC_VERSION_TEXT`; installed when the image lacks it). The kernel's "
                   "headers must be installed first. Nouveau is blacklisted, the LKCA modprobe "
                   "config written and `update-initramfs -u -k KERNEL` run.",
        .fields =
            {
                {.name = "artifact",
                 .type = FieldType::Artifact,
                 .required = true,
                 .help = "The NVIDIA-Linux-x86_64-VERSION.run file."},
                {.name = "version", .required = true, .help = "Driver version, e.g. 570.195.03."},
                {.name = "kernel",
                 .default_value = "auto",
                 .help = "Kernel release to build for; `auto` is the newest kernel in the image "
                         "that meets base.min_kernel."},
                {.name = "module_type",
                 .type = FieldType::Enum,
                 .default_value = "open",
                 .help = "Kernel module flavour; confidential computing supports only the open "
                         "modules.",
                 .choices = {"open"}},
                {.name = "dkms",
                 .type = FieldType::Bool,
                 .default_value = true,
                 .help = "Register the modules with DKMS."},
                {.name = "extra_args",
                 .type = FieldType::StringList,
                 .default_value = nlohmann::json::array(),
                 .help = "Further installer arguments."},
                {.name = "blacklist_nouveau",
                 .type = FieldType::Bool,
                 .default_value = true,
                 .help = "Write a nouveau blacklist."},
                {.name = "lkca",
                 .type = FieldType::Bool,
                 .default_value = true,
                 .help = "Write /etc/modprobe.d/nvidia-lkca.conf so ecdsa_generic and ecdh load "
                         "before nvidia."},
                {.name = "update_initramfs",
                 .type = FieldType::Bool,
                 .default_value = true,
                 .help = "Rebuild the kernel's initramfs."},
            },
        .example = "nvidia_driver:\n  artifact: driver_run\n  version: 570.195.03\n",
        .check =
            [](const recipe::Step& s, const recipe::Recipe& r, const FieldLoc& loc,
               recipe::Diagnostics& d) {
                for (const auto& a : texts(s.spec, "extra_args")) {
                    for (const char* owned :
                         {"--kernel-module-type", "--kernel-name", "--silent", "-m="})
                        if (util::starts_with(a, owned))
                            d.error(loc("extra_args"),
                                    fmt::format("'{}' is set by ccbake itself", a),
                                    "use 'kernel' or 'module_type' instead");
                    if (a.empty() || a[0] != '-')
                        d.error(loc("extra_args"),
                                fmt::format("installer argument '{}' is not an option", a));
                }
                const auto* art = r.artifact(text(s.spec, "artifact"));
                std::string version = text(s.spec, "version");
                if (art && !version.empty() && art->filename.find(version) == std::string::npos)
                    d.error(loc("version"),
                            fmt::format("version {} does not appear in the installer's name {}",
                                        version, art->filename),
                            "the .run file is named NVIDIA-Linux-x86_64-VERSION.run");
            },
        .describe =
            [](const recipe::Step& s, const recipe::Recipe& r) {
                std::vector<std::string> args = {
                    "--silent", "--kernel-module-type=open",
                    "--kernel-name=" + (text(s.spec, "kernel") == "auto"
                                            ? "<image kernel >= " + r.base.min_kernel + ">"
                                            : text(s.spec, "kernel"))};
                if (flag(s.spec, "dkms")) args.push_back("--dkms");
                for (const auto& a : texts(s.spec, "extra_args"))
                    args.push_back(a);
                std::vector<std::string> out = {
                    fmt::format("driver {}: {} {}", text(s.spec, "version"),
                                text(s.spec, "artifact"), util::join(args, " "))};
                if (flag(s.spec, "lkca"))
                    out.push_back(
                        "/etc/modprobe.d/nvidia-lkca.conf: softdep nvidia pre: ecdsa_generic ecdh");
                if (flag(s.spec, "blacklist_nouveau")) out.push_back("blacklist nouveau");
                if (flag(s.spec, "update_initramfs"))
                    out.push_back("update-initramfs -u -k <kernel>");
                return out;
            },
        .apply = apply_nvidia_driver,
    };
    return kind;
}

} // namespace ccbake::steps
