#include "plan/measured.h"

#include "util/strings.h"

#include <fmt/format.h>

namespace ccbake::plan {

namespace {

std::string field(const recipe::Step& s, const char* key) {
    return s.spec.contains(key) && s.spec[key].is_string() ? s.spec[key].get<std::string>() : "";
}

bool starts(const std::string& s, const std::string& prefix) {
    return s.rfind(prefix, 0) == 0;
}

const char* kGrubMeasures = "if grub measures into the TD";

// A file a step writes, by where it lies.
Impact of_path(const std::string& path) {
    if (starts(path, "/boot/efi/"))
        return {{"RTMR1", "RTMR2"},
                "a file on the ESP: shim and grub are measured into RTMR1, shim's certificates "
                "and (" +
                    std::string(kGrubMeasures) + ") grub's config into RTMR2"};
    if (starts(path, "/boot/"))
        return {{"RTMR2"}, fmt::format("{}: a file grub may read", kGrubMeasures)};
    if (path == "/etc/default/grub" || starts(path, "/etc/default/grub.d/"))
        return {{},
                fmt::format("none by itself; RTMR2 {} once update-grub regenerates grub.cfg",
                            kGrubMeasures)};
    return {{}, "none: only what the boot loaders read is measured"};
}

} // namespace

Impact measured_impact(const recipe::Step& s) {
    const std::string& k = s.kind;
    if (k == "kernel_cmdline")
        return {{"RTMR2"},
                fmt::format("{}: the kernel command line and grub.cfg's commands (grub 2.06 as "
                            "Ubuntu 22.04 ships it does not measure into a TD)",
                            kGrubMeasures)};
    if (k == "kernel")
        return {{"RTMR1", "RTMR2"},
                fmt::format("RTMR1 with Secure Boot on (shim measures the kernel grub boots); "
                            "RTMR2 {}: grub.cfg, the kernel and the initrd",
                            kGrubMeasures)};
    if (k == "nvidia_driver" || k == "modprobe")
        return {
            {"RTMR2"},
            fmt::format("{}: the step rebuilds the initramfs, a file grub loads", kGrubMeasures)};
    if (k == "apt_install" || k == "deb_install" || k == "vendor_installer" || k == "source_build")
        return {{"RTMR2"},
                fmt::format("{}, and if an installed package rebuilds the initramfs (kernel "
                            "modules, initramfs hooks) or replaces grub or shim (RTMR1 too)",
                            kGrubMeasures)};
    if (k == "file" || k == "json_edit") return of_path(field(s, "path"));
    if (k == "run") {
        std::string cmd;
        if (s.spec.contains("argv") && s.spec["argv"].is_array() && !s.spec["argv"].empty() &&
            s.spec["argv"][0].is_string())
            cmd = s.spec["argv"][0].get<std::string>();
        const std::string base = cmd.substr(cmd.rfind('/') + 1);
        if (base == "update-grub" || base == "grub-mkconfig")
            return {{"RTMR2"}, fmt::format("{}: grub.cfg's commands", kGrubMeasures)};
        if (base == "update-initramfs")
            return {{"RTMR2"}, fmt::format("{}: the initrd grub loads", kGrubMeasures)};
        if (base == "grub-install")
            return {{"RTMR1", "RTMR2"},
                    "grub and shim on the ESP (RTMR1), shim's certificates (RTMR2)"};
        return {{"unknown"},
                "a command's writes are not declared: it changes RTMR1 or RTMR2 "
                "only if it writes the ESP, /boot or the initramfs"};
    }
    // Files under /etc, /opt, /srv and /usr only.
    if (k == "apt_repo" || k == "python_venv" || k == "systemd" || k == "guest_check")
        return {{}, "none: only what the boot loaders read is measured"};
    return {{"unknown"}, "a step kind whose effect on the boot path is not described"};
}

std::string impact_line(const Impact& i) {
    if (i.registers.empty()) return i.why;
    return fmt::format("{} — {}", util::join(i.registers, "+"), i.why);
}

} // namespace ccbake::plan
