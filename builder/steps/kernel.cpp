// kernel: make sure the image boots a kernel >= the recipe's minimum, with its headers,
// as the default entry, and that nothing reboots the guest unattended.
#include "recipe/typecheck.h"
#include "steps/install_support.h"
#include "steps/kinds.h"
#include "util/error.h"
#include "util/kernel_release.h"
#include "util/strings.h"

#include <fmt/format.h>

namespace ccbake::steps {

using recipe::FieldType;

namespace {

const char* kGrubDefault = "/etc/default/grub.d/90-ccbake-kernel.cfg";
const char* kNoReboot = "/etc/apt/apt.conf.d/99-ccbake-no-reboot";

void apt_install(StepContext& ctx, const std::vector<std::string>& packages) {
    install::NetworkWhile network(ctx.target, true);
    std::vector<std::string> args = {"install"};
    args.insert(args.end(), packages.begin(), packages.end());
    install::refresh_apt_lists(ctx);
    ctx.progress("apt-get install " + util::join(packages, " "));
    install::apt_get(ctx, args, fmt::format("installing {} failed", util::join(packages, " ")));
}

StepResult apply_kernel(StepContext& ctx, const recipe::Step& s) {
    StepResult result;
    const std::string min = text(s.spec, "min_version").empty() ? ctx.recipe.base.min_kernel
                                                                : text(s.spec, "min_version");
    const bool headers = flag(s.spec, "headers");
    auto kernels = target::kernels_at_least(ctx.target.root(), min);
    if (kernels.empty()) {
        std::vector<std::string> packages = {text(s.spec, "package")};
        if (headers) packages.push_back(text(s.spec, "headers_package"));
        const auto before = install::installed_packages(ctx);
        apt_install(ctx, packages);
        for (auto& c : install::package_changes(before, install::installed_packages(ctx)))
            result.changes.push_back(c);
        kernels = target::kernels_at_least(ctx.target.root(), min);
        if (kernels.empty())
            throw Error(fmt::format("installing {} gave the image no kernel >= {}",
                                    text(s.spec, "package"), min),
                        "choose a kernel package that provides the minimum version (Ubuntu 22.04: "
                        "linux-generic-hwe-22.04, 6.8)");
    }
    const std::string kernel = kernels.front();
    if (headers && !install::has_headers(ctx, kernel)) {
        const auto before = install::installed_packages(ctx);
        apt_install(ctx, {"linux-headers-" + kernel});
        for (auto& c : install::package_changes(before, install::installed_packages(ctx)))
            result.changes.push_back(c);
        if (!install::has_headers(ctx, kernel))
            throw Error(
                fmt::format("linux-headers-{} installed no /lib/modules/{}/build", kernel, kernel),
                "check that the headers package matches the kernel");
    }
    // grub lists the newest kernel first; entry 0 is the newest, which meets the minimum.
    if (flag(s.spec, "default_boot") &&
        target::write_if_changed(
            ctx.target.root(), kGrubDefault,
            fmt::format("# Written by ccbake: boot the newest kernel ({} at bake time, "
                        "minimum {}).\nGRUB_DEFAULT=0\n",
                        kernel, min)))
        result.changes.push_back(
            fmt::format("{}: GRUB_DEFAULT=0 (kernel {})", kGrubDefault, kernel));
    if (flag(s.spec, "block_reboot") &&
        target::write_if_changed(ctx.target.root(), kNoReboot,
                                 "// Written by ccbake: in-guest reboot is unsupported on TDX.\n"
                                 "Unattended-Upgrade::Automatic-Reboot \"false\";\n"
                                 "Unattended-Upgrade::Automatic-Reboot-WithUsers \"false\";\n"))
        result.changes.push_back(std::string(kNoReboot) +
                                 ": Unattended-Upgrade::Automatic-Reboot \"false\"");
    return result;
}

} // namespace

const StepKind& kernel_kind() {
    static const StepKind kind{
        .name = "kernel",
        .summary =
            "Ensure a kernel >= the minimum version, with headers, as the default boot entry.",
        .details =
            "When no installed kernel meets `min_version` (default: base.min_kernel), `package` "
            "and `headers_package` are installed (Ubuntu 22.04: the HWE kernel, 6.8). The newest "
            "kernel that meets the minimum becomes grub's default. With `block_reboot`, "
            "unattended-upgrades is told never to reboot: in-guest reboot is unsupported on TDX.",
        .fields =
            {
                {.name = "min_version",
                 .type = FieldType::Version,
                 .help = "Lowest acceptable kernel (default: base.min_kernel)."},
                {.name = "package",
                 .default_value = "linux-generic-hwe-22.04",
                 .help = "Kernel meta-package."},
                {.name = "headers_package",
                 .default_value = "linux-headers-generic-hwe-22.04",
                 .help = "Headers meta-package (the NVIDIA driver build needs them)."},
                {.name = "headers",
                 .type = FieldType::Bool,
                 .default_value = true,
                 .help = "Install the headers."},
                {.name = "default_boot",
                 .type = FieldType::Bool,
                 .default_value = true,
                 .help = "Make the kernel grub's default entry."},
                {.name = "block_reboot",
                 .type = FieldType::Bool,
                 .default_value = true,
                 .help = "Configure unattended-upgrades never to reboot the guest."},
            },
        .example = "kernel:\n  package: linux-generic-hwe-22.04\n",
        .check =
            [](const recipe::Step& s, const recipe::Recipe& r, const FieldLoc& loc,
               recipe::Diagnostics& d) {
                std::string min = text(s.spec, "min_version");
                if (!min.empty() && util::compare_kernel_releases(min, r.base.min_kernel) < 0)
                    d.error(loc("min_version"),
                            fmt::format("min_version {} is below base.min_kernel {}", min,
                                        r.base.min_kernel),
                            "the image would fail the post-bake kernel check");
            },
        .describe =
            [](const recipe::Step& s, const recipe::Recipe& r) {
                std::string min = text(s.spec, "min_version");
                std::vector<std::string> out = {fmt::format(
                    "kernel >= {}: else install {}{}", min.empty() ? r.base.min_kernel : min,
                    text(s.spec, "package"),
                    flag(s.spec, "headers") ? " " + text(s.spec, "headers_package") : "")};
                if (flag(s.spec, "default_boot"))
                    out.push_back("default grub entry: newest kernel >= minimum");
                if (flag(s.spec, "block_reboot"))
                    out.push_back("/etc/apt/apt.conf.d/99-ccbake-no-reboot: "
                                  "Unattended-Upgrade::Automatic-Reboot \"false\"");
                return out;
            },
        .apply = apply_kernel,
    };
    return kind;
}

} // namespace ccbake::steps
