#include "bake/space.h"

#include "util/error.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <map>

namespace ccbake::bake {

namespace {

constexpr std::uint64_t kMiB = 1ull << 20, kGiB = 1ull << 30;

// Measured on Ubuntu 22.04 and rounded up: the HWE kernel with headers and modules is about
// 700 MiB; the driver's dkms tree, built modules and a new initramfs per kernel about 400 MiB.
const std::map<std::string, std::uint64_t>& allowances() {
    static const std::map<std::string, std::uint64_t> table = {
        {"apt_install", 512 * kMiB},
        {"apt_repo", 64 * kMiB},
        {"deb_install", 64 * kMiB},
        {"file", 1 * kMiB},
        {"guest_check", 16 * kMiB},
        {"json_edit", 1 * kMiB},
        {"kernel", 1 * kGiB},
        {"kernel_cmdline", 8 * kMiB},
        {"modprobe", 256 * kMiB},
        {"nvidia_driver", 512 * kMiB},
        {"python_venv", 256 * kMiB},
        {"run", 4 * kMiB},
        {"source_build", 256 * kMiB},
        {"systemd", 1 * kMiB},
        {"vendor_installer", 64 * kMiB},
    };
    return table;
}

bool uses_apt(const std::string& kind) {
    return kind == "apt_install" || kind == "kernel" || kind == "python_venv" ||
           kind == "nvidia_driver" || kind == "deb_install";
}

} // namespace

std::uint64_t kind_allowance(const std::string& kind) {
    auto it = allowances().find(kind);
    return it == allowances().end() ? 64 * kMiB : it->second;
}

SpaceEstimate estimate_space(const recipe::Recipe& r, const std::vector<const recipe::Step*>& steps,
                             bool kernel_present) {
    SpaceEstimate e;
    bool apt = false;
    for (const auto* s : steps) {
        std::uint64_t n = s->kind == "kernel" && kernel_present ? kKernelHeadersAllowance
                                                                : kind_allowance(s->kind);
        for (const auto& name : s->artifacts)
            if (const auto* a = r.artifact(name)) n += 2 * a->size;
        apt = apt || uses_apt(s->kind);
        e.bytes += n;
        e.lines.push_back(fmt::format("{} ({}): {}", s->name, s->kind, util::human_bytes(n)));
    }
    if (apt) {
        e.bytes += kAptListsAllowance;
        e.lines.push_back(fmt::format("apt lists: {}", util::human_bytes(kAptListsAllowance)));
    }
    return e;
}

void check_space(const SpaceEstimate& need, std::uint64_t free_bytes, std::uint64_t disk_size,
                 const std::string& what) {
    if (free_bytes >= need.bytes) return;
    // Ask for whole GiB, with the file system's own overhead on the new space (about 2%).
    std::uint64_t missing = need.bytes - free_bytes;
    std::uint64_t ask = (disk_size + missing + missing / 32 + kGiB - 1) / kGiB * kGiB;
    PreflightError e(
        fmt::format("{} has {} free in its root file system, but the steps need about {}", what,
                    util::human_bytes(free_bytes), util::human_bytes(need.bytes)),
        fmt::format("grow the disk: set `base: {{disk_size: {}GiB}}` in the recipe or pass "
                    "--disk-size {}GiB (the input image stays as it is)",
                    ask / kGiB, ask / kGiB));
    for (const auto& line : need.lines)
        e.add_context("  " + line);
    throw e;
}

} // namespace ccbake::bake
