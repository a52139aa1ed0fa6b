// Kernel checks: the release against the recipe's minimum, and the swiotlb bounce buffer
// the kernel really mapped against what the command line and the recipe asked for.
#include "check/checks_impl.h"
#include "check/parse_kernel.h"
#include "check/text.h"
#include "util/kernel_release.h"

#include <fmt/format.h>

namespace ccbake::check {

namespace {

CheckResult kernel_version(System& sys, const Config& cfg) {
    std::string release = trim(sys.read("/proc/sys/kernel/osrelease").value_or(""));
    if (!util::is_kernel_release(release))
        return result("kernel.version", Status::Fail, "cannot read the kernel release",
                      "mount /proc");
    if (!util::is_kernel_release(cfg.min_kernel))
        return result("kernel.version", Status::Fail,
                      "the configured minimum '" + cfg.min_kernel + "' is no version",
                      "fix min_kernel in the recipe and bake again");
    if (util::compare_kernel_releases(release, cfg.min_kernel) < 0)
        return result(
            "kernel.version", Status::Fail,
            fmt::format("kernel {} is older than the minimum {}", release, cfg.min_kernel),
            "install the HWE kernel (linux-generic-hwe-22.04) or the vendor's kernel and make it "
            "the "
            "default grub entry");
    return result("kernel.version", Status::Pass,
                  fmt::format("kernel {} >= {}", release, cfg.min_kernel));
}

CheckResult swiotlb(System& sys, const Config& cfg, const Facts& f) {
    std::string cmdline = trim(sys.read("/proc/cmdline").value_or(""));
    auto slabs = cmdline_swiotlb_slabs(cmdline);
    auto mapped = swiotlb_mapped(f.kernel_log);
    std::uint64_t asked_mib = slabs ? *slabs * kSwiotlbSlabBytes >> 20 : 0;
    std::string asked =
        slabs ? fmt::format("swiotlb={} on the command line asks {} MiB", *slabs, asked_mib)
              : "no swiotlb= on the command line";
    if (cfg.swiotlb_bytes > 0) {
        std::uint64_t want = cfg.swiotlb_bytes / kSwiotlbSlabBytes;
        if (!slabs || *slabs != want)
            return result("kernel.swiotlb", Status::Fail,
                          fmt::format("{}; the recipe asked swiotlb={} ({} MiB)", asked, want,
                                      cfg.swiotlb_bytes >> 20),
                          "the grub drop-in did not take effect: check /etc/default/grub.d/ and "
                          "that grub.cfg was "
                          "regenerated (update-grub), then restart the instance from the console");
    }
    if (!mapped) {
        std::string evidence = asked + "; the kernel log has no \"software IO TLB: mapped\" line";
        if (f.tdx_device)
            return result("kernel.swiotlb", Status::Fail, evidence,
                          "a TDX guest always maps a bounce buffer: read `dmesg | grep -i swiotlb` "
                          "for the reason");
        return result("kernel.swiotlb", Status::Skip,
                      evidence +
                          " (the kernel maps one only when it needs it: TDX, or RAM above 4 GiB)");
    }
    std::string adjusted = mapped->adjusted.empty() ? "" : "; " + mapped->adjusted;
    if (slabs && mapped->mib < asked_mib)
        return result("kernel.swiotlb", Status::Fail,
                      fmt::format("{}, but the kernel mapped only {} MiB ({}){}", asked,
                                  mapped->mib, mapped->line, adjusted),
                      "the guest lacks memory below the kernel's allocation limit for the buffer: "
                      "give the instance "
                      "more memory or ask for a smaller swiotlb size in the recipe");
    return result("kernel.swiotlb", Status::Pass,
                  fmt::format("{}; kernel mapped {} MiB ({})", asked, mapped->mib, mapped->line));
}

} // namespace

void check_kernel(System& sys, const Config& cfg, const Facts& f, Report& r) {
    r.add(kernel_version(sys, cfg));
    r.add(swiotlb(sys, cfg, f));
}

} // namespace ccbake::check
