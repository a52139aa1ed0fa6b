// TDX guest checks: the CPU flag, the guest device, the kernel's own TDX lines and the
// configfs-tsm report provider.
#include "check/checks_impl.h"
#include "check/parse_kernel.h"
#include "check/text.h"

#include <fmt/format.h>

namespace ccbake::check {

namespace {

constexpr const char* kNotTdx = "boot the image as a TDX confidential VM (an instance type with "
                                "Intel TDX; the image alone cannot enable it)";

CheckResult tsm_report(System& sys) {
    const std::string dir = "/sys/kernel/config/tsm/report";
    if (!sys.exists(dir))
        return not_applicable("tdx.tsm_report",
                              "configfs-tsm absent: no " + dir +
                                  " (kernel without TSM reports, or configfs not mounted)");
    // Creating an entry makes the kernel say which provider answers report requests.
    const std::string entry = dir + "/ccbake-check";
    if (!sys.make_dir(entry))
        return result("tdx.tsm_report", Status::Fail, "cannot create " + entry,
                      "run the checker as root");
    std::string provider = trim(sys.read(entry + "/provider").value_or(""));
    sys.remove_dir(entry);
    if (provider.empty())
        return result("tdx.tsm_report", Status::Fail, dir + " has no provider",
                      "the TDX guest driver (tdx_guest) registers the provider; load it");
    if (!contains(provider, "tdx"))
        return result("tdx.tsm_report", Status::Fail,
                      "report provider is " + provider + ", not tdx_guest", kNotTdx);
    return result("tdx.tsm_report", Status::Pass, "report provider " + provider + " in " + dir);
}

} // namespace

void check_tdx(System& sys, const Config&, const Facts& f, Report& r) {
    auto cpuinfo = sys.read("/proc/cpuinfo");
    if (!cpuinfo)
        r.add(result("tdx.cpu_flag", Status::Fail, "cannot read /proc/cpuinfo", "mount /proc"));
    else if (has_cpu_flag(*cpuinfo, "tdx_guest"))
        r.add(result("tdx.cpu_flag", Status::Pass, "tdx_guest in /proc/cpuinfo flags"));
    else
        r.add(result("tdx.cpu_flag", Status::Skip, "TDX absent: no tdx_guest flag in /proc/cpuinfo",
                     kNotTdx));

    if (f.tdx_device)
        r.add(result("tdx.device", Status::Pass, "/dev/tdx_guest exists"));
    else
        r.add(result("tdx.device", Status::Skip, "TDX absent: no /dev/tdx_guest",
                     "in a TDX VM, load the tdx_guest driver (modprobe tdx_guest); otherwise: " +
                         std::string(kNotTdx)));

    TdxLog t = find_tdx_lines(f.kernel_log);
    if (f.kernel_log.empty())
        r.add(result("tdx.kernel_log", Status::Fail,
                     "cannot read the kernel log (/dev/kmsg, dmesg)", "run the checker as root"));
    else if (!t.guest_detected.empty() && !t.memory_encryption.empty()) {
        std::string evidence = t.guest_detected + "; " + t.memory_encryption;
        if (!t.idle_routine.empty()) evidence += "; " + t.idle_routine;
        r.add(result("tdx.kernel_log", Status::Pass, evidence));
    } else if (!t.guest_detected.empty())
        r.add(result("tdx.kernel_log", Status::Fail,
                     t.guest_detected +
                         ", but no \"Memory Encryption Features active: Intel TDX\" line",
                     "the kernel does not encrypt guest memory: use a kernel built with "
                     "CONFIG_INTEL_TDX_GUEST"));
    else
        r.add(result("tdx.kernel_log", Status::Skip,
                     "TDX absent: the kernel log has no \"tdx: Guest detected\"", kNotTdx));

    r.add(tsm_report(sys));
}

} // namespace ccbake::check
