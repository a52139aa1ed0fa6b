// kernel: make sure the image boots a kernel >= the recipe's minimum, with its headers,
// as the default entry, and that nothing reboots the guest unattended.
#include <fmt/format.h>

#include "recipe/typecheck.h"
#include "steps/kinds.h"
#include "util/strings.h"

namespace ccbake::steps {

using recipe::FieldType;

const StepKind& kernel_kind() {
    static const StepKind kind{
        "kernel",
        "Ensure a kernel >= the minimum version, with headers, as the default boot entry.",
        "When no installed kernel meets `min_version` (default: base.min_kernel), `package` and "
        "`headers_package` are installed (Ubuntu 22.04: the HWE kernel, 6.8). The newest kernel "
        "that meets the minimum becomes grub's default. With `block_reboot`, "
        "unattended-upgrades is told never to reboot: in-guest reboot is unsupported on TDX.",
        {
            {"min_version", FieldType::Version, false, {}, "Lowest acceptable kernel (default: base.min_kernel)."},
            {"package", FieldType::String, false, "linux-generic-hwe-22.04", "Kernel meta-package."},
            {"headers_package", FieldType::String, false, "linux-headers-generic-hwe-22.04",
             "Headers meta-package (the NVIDIA driver build needs them)."},
            {"headers", FieldType::Bool, false, true, "Install the headers."},
            {"default_boot", FieldType::Bool, false, true, "Make the kernel grub's default entry."},
            {"block_reboot", FieldType::Bool, false, true,
             "Configure unattended-upgrades never to reboot the guest."},
        },
        "kernel:\n  package: linux-generic-hwe-22.04\n",
        [](const recipe::Step& s, const recipe::Recipe& r, const FieldLoc& loc, recipe::Diagnostics& d) {
            std::string min = text(s.spec, "min_version");
            if (!min.empty() && recipe::compare_versions(recipe::parse_version(min),
                                                         recipe::parse_version(r.base.min_kernel)) < 0)
                d.error(loc("min_version"),
                        fmt::format("min_version {} is below base.min_kernel {}", min, r.base.min_kernel),
                        "the image would fail the post-bake kernel check");
        },
        [](const recipe::Step& s, const recipe::Recipe& r) {
            std::string min = text(s.spec, "min_version");
            std::vector<std::string> out = {fmt::format(
                "kernel >= {}: else install {}{}", min.empty() ? r.base.min_kernel : min,
                text(s.spec, "package"), s.spec.value("headers", true) ? " " + text(s.spec, "headers_package") : "")};
            if (s.spec.value("default_boot", true)) out.push_back("default grub entry: newest kernel >= minimum");
            if (s.spec.value("block_reboot", true))
                out.push_back("/etc/apt/apt.conf.d/99-ccbake-no-reboot: Unattended-Upgrade::Automatic-Reboot \"false\"");
            return out;
        },
        {},
    };
    return kind;
}

}  // namespace ccbake::steps
