// nvidia_driver: run NVIDIA's makeself .run installer in the image for the image's kernel,
// with the open kernel modules that confidential computing needs.
#include <fmt/format.h>

#include "steps/kinds.h"
#include "util/strings.h"

namespace ccbake::steps {

using recipe::FieldType;

const StepKind& nvidia_driver_kind() {
    static const StepKind kind{
        "nvidia_driver",
        "Install the NVIDIA driver from its .run installer for the image's kernel.",
        "Run offline with no GPU visible, the installer would pick the proprietary modules; "
        "confidential computing needs the open ones. ccbake always passes `--silent "
        "--kernel-module-type=open --kernel-name=KERNEL` (the image's kernel, never the host's) "
        "and `--dkms` unless disabled. The kernel's headers must be installed first. Nouveau is "
        "blacklisted, the LKCA modprobe config written and `update-initramfs -u -k KERNEL` run.",
        {
            {"artifact", FieldType::Artifact, true, {}, "The NVIDIA-Linux-x86_64-VERSION.run file."},
            {"version", FieldType::String, true, {}, "Driver version, e.g. 570.195.03."},
            {"kernel", FieldType::String, false, "auto",
             "Kernel release to build for; `auto` is the newest kernel in the image that meets "
             "base.min_kernel."},
            {"module_type", FieldType::Enum, false, "open",
             "Kernel module flavour; confidential computing supports only the open modules.",
             {"open"}},
            {"dkms", FieldType::Bool, false, true, "Register the modules with DKMS."},
            {"extra_args", FieldType::StringList, false, nlohmann::json::array(),
             "Further installer arguments."},
            {"blacklist_nouveau", FieldType::Bool, false, true, "Write a nouveau blacklist."},
            {"lkca", FieldType::Bool, false, true,
             "Write /etc/modprobe.d/nvidia-lkca.conf so ecdsa_generic and ecdh load before nvidia."},
            {"update_initramfs", FieldType::Bool, false, true, "Rebuild the kernel's initramfs."},
        },
        "nvidia_driver:\n  artifact: driver_run\n  version: 570.195.03\n",
        [](const recipe::Step& s, const recipe::Recipe& r, const FieldLoc& loc, recipe::Diagnostics& d) {
            for (const auto& a : texts(s.spec, "extra_args")) {
                for (const char* owned : {"--kernel-module-type", "--kernel-name", "--silent", "-m="})
                    if (util::starts_with(a, owned))
                        d.error(loc("extra_args"), fmt::format("'{}' is set by ccbake itself", a),
                                "use 'kernel' or 'module_type' instead");
                if (a.empty() || a[0] != '-')
                    d.error(loc("extra_args"), fmt::format("installer argument '{}' is not an option", a));
            }
            const auto* art = r.artifact(text(s.spec, "artifact"));
            std::string version = text(s.spec, "version");
            if (art && !version.empty() && art->filename.find(version) == std::string::npos)
                d.error(loc("version"),
                        fmt::format("version {} does not appear in the installer's name {}", version,
                                    art->filename),
                        "the .run file is named NVIDIA-Linux-x86_64-VERSION.run");
        },
        [](const recipe::Step& s, const recipe::Recipe& r) {
            std::vector<std::string> args = {"--silent", "--kernel-module-type=open",
                                             "--kernel-name=" + (text(s.spec, "kernel") == "auto"
                                                                     ? "<image kernel >= " + r.base.min_kernel + ">"
                                                                     : text(s.spec, "kernel"))};
            if (s.spec.value("dkms", true)) args.push_back("--dkms");
            for (const auto& a : texts(s.spec, "extra_args")) args.push_back(a);
            std::vector<std::string> out = {fmt::format("driver {}: {} {}", text(s.spec, "version"),
                                                        text(s.spec, "artifact"), util::join(args, " "))};
            if (s.spec.value("lkca", true))
                out.push_back("/etc/modprobe.d/nvidia-lkca.conf: softdep nvidia pre: ecdsa_generic ecdh");
            if (s.spec.value("blacklist_nouveau", true)) out.push_back("blacklist nouveau");
            if (s.spec.value("update_initramfs", true)) out.push_back("update-initramfs -u -k <kernel>");
            return out;
        },
        {},
    };
    return kind;
}

}  // namespace ccbake::steps
