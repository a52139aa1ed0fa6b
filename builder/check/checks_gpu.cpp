// GPU checks: nvidia-persistenced (waited for, with a bound) before anything touches the
// GPU, fabric manager on multi-GPU images, the GPU count and the confidential-computing mode.
#include "check/checks_impl.h"
#include "check/parse_nvidia.h"
#include "check/text.h"

#include <fmt/format.h>

namespace ccbake::check {

namespace {

constexpr int kSmiTimeout = 120; // nvidia-smi may block while the driver initialises GPUs
constexpr int kPollSeconds = 5;

struct UnitState {
    std::string state; // is-active: active, activating, failed, inactive, ... ; "not-found"
    int waited = 0;
    std::string pid; // without systemd: the daemon's pid
};

// The pid of a running process named `comm`, or "" (for systems without systemd).
std::string find_process(System& sys, const std::string& comm) {
    for (const auto& pid : sys.list("/proc"))
        if (pid.find_first_not_of("0123456789") == std::string::npos &&
            trim(sys.read("/proc/" + pid + "/comm").value_or("")) == comm)
            return pid;
    return {};
}

// The daemon behind a unit, by its process name (/proc/PID/comm is cut at 15 characters).
std::string daemon_of(const std::string& unit) {
    return unit == "nvidia-fabricmanager.service" ? "nv-fabricmanage" : "nvidia-persiste";
}

// Polls `systemctl is-active` (without systemd: the daemon's process) until the unit is
// active or failed, or `timeout` seconds passed.
UnitState wait_active(System& sys, const std::string& unit, int timeout, const Progress& progress) {
    UnitState u;
    auto load = sys.run({"systemctl", "show", "-p", "LoadState", "--value", unit}, 30);
    bool systemd = load.started && load.exit_code == 0 && !trim(load.output).empty();
    if (systemd && trim(load.output) == "not-found") return {"not-found", 0};
    for (;;) {
        if (systemd) {
            auto r = sys.run({"systemctl", "is-active", unit}, 30);
            u.state = trim(r.output).empty() ? "unknown" : last_line(r.output);
        } else {
            std::string pid = find_process(sys, daemon_of(unit));
            u.state = pid.empty() ? "not running (no systemd)" : "active";
            u.pid = pid;
        }
        if (u.state == "active" || u.state == "failed" || u.waited >= timeout) return u;
        if (u.waited % 30 == 0)
            progress(
                fmt::format("waiting for {} ({}, {}s of {}s)", unit, u.state, u.waited, timeout));
        int step = std::min(kPollSeconds, timeout - u.waited);
        sys.sleep(step);
        u.waited += step;
    }
}

CheckResult unit_result(const std::string& id, const std::string& unit, const UnitState& u,
                        int timeout, const std::string& hint) {
    if (u.state == "active") {
        std::string what = u.pid.empty()
                               ? unit + " active"
                               : fmt::format("no systemd; {} runs as pid {}", unit, u.pid);
        return result(id, Status::Pass,
                      u.waited ? fmt::format("{} after {}s", what, u.waited) : what);
    }
    if (u.state == "not-found")
        return result(id, Status::Fail, unit + " is not installed",
                      "bake the image with the recipe's driver steps");
    if (u.state == "failed")
        return result(id, Status::Fail, unit + " failed",
                      "read `journalctl -b -u " + unit + "`; " + hint);
    if (u.state == "not running (no systemd)")
        return result(
            id, Status::Fail, fmt::format("no systemd, and no {} process after {}s", unit, timeout),
            unit == "nvidia-persistenced.service"
                ? "start nvidia-persistenced --uvm-persistence-mode before anything uses the GPU"
                : "start nv-fabricmanager (its version must match the driver's)");
    return result(id, Status::Fail, fmt::format("{} still {} after {}s", unit, u.state, timeout),
                  "GPU initialisation in CC mode is slow (about 5 minutes for 8 GPUs): raise "
                  "persistenced_timeout "
                  "in the recipe, or read `journalctl -b -u " +
                      unit + "`");
}

CheckResult cc_mode(System& sys, const Config& cfg) {
    auto f = sys.run({"nvidia-smi", "conf-compute", "-f"}, kSmiTimeout);
    if (!f.started)
        return result("gpu.cc_mode", Status::Fail, "nvidia-smi not found",
                      "install the NVIDIA driver");
    auto on = parse_cc_status(f.output);
    if (on == true)
        return result("gpu.cc_mode", Status::Pass, "CC status: ON (nvidia-smi conf-compute -f)");
    if (cfg.gpu_mode == "ppcie") {
        // Protected PCIe reports CC off; its multi-GPU mode says PPCIe.
        auto q = sys.run({"nvidia-smi", "conf-compute", "-q"}, kSmiTimeout);
        std::string mode = parse_multi_gpu_mode(q.output);
        if (lower(mode) == "protected pcie")
            return result("gpu.cc_mode", Status::Pass,
                          "Multi-GPU Mode: Protected PCIe (nvidia-smi conf-compute -q)");
        return result(
            "gpu.cc_mode", Status::Fail,
            fmt::format("Multi-GPU Mode: {} ({})", mode.empty() ? "unknown" : mode,
                        on ? "CC status: OFF" : last_line(f.output)),
            "the host must put every GPU and NVSwitch in PPCIe mode before the VM starts");
    }
    if (on == false)
        return result("gpu.cc_mode", Status::Fail, "CC status: OFF (nvidia-smi conf-compute -f)",
                      "the host sets the GPU's CC mode before the VM starts: use a confidential "
                      "GPU instance type");
    return result(
        "gpu.cc_mode", Status::Fail,
        fmt::format("nvidia-smi conf-compute -f exited {}: {}", f.exit_code, last_line(f.output)),
        "the driver must be 535 or newer with the open kernel modules, on a GPU that supports CC");
}

} // namespace

void check_gpu(System& sys, const Config& cfg, const Facts& f, Report& r,
               const Progress& progress) {
    const char* ids[] = {"gpu.persistenced", "gpu.fabricmanager", "gpu.count", "gpu.cc_mode"};
    if (cfg.gpu_mode == "none") {
        for (const char* id : ids)
            r.add(not_applicable(id, "the image has no GPU checks (gpu_mode: none)"));
        return;
    }
    if (f.pci_gpus == 0) {
        for (const char* id : ids)
            r.add(result(id, Status::Skip, "GPU absent: no NVIDIA GPU on the PCI bus",
                         "attach the GPUs (a confidential GPU instance type)"));
        return;
    }
    UnitState p =
        wait_active(sys, "nvidia-persistenced.service", cfg.persistenced_timeout_s, progress);
    r.add(unit_result("gpu.persistenced", "nvidia-persistenced.service", p,
                      cfg.persistenced_timeout_s,
                      "it needs the open kernel modules and the runtime directory"));

    bool multi = f.pci_gpus > 1 || f.pci_switches > 0 || cfg.gpu_mode == "ppcie";
    if (!multi)
        r.add(not_applicable("gpu.fabricmanager",
                             "single GPU without NVSwitch: no fabric manager needed"));
    else {
        UnitState fm = wait_active(sys, "nvidia-fabricmanager.service",
                                   cfg.persistenced_timeout_s - p.waited, progress);
        r.add(unit_result("gpu.fabricmanager", "nvidia-fabricmanager.service", fm,
                          cfg.persistenced_timeout_s,
                          "its version must match the driver's exactly"));
    }

    if (std::string why = gpu_unavailable(cfg, f, r); !why.empty()) {
        r.add(result("gpu.count", Status::Skip, why));
        r.add(result("gpu.cc_mode", Status::Skip, why));
        return;
    }
    auto list = sys.run({"nvidia-smi", "-L"}, kSmiTimeout);
    auto gpus = parse_gpu_list(list.output);
    int want = cfg.expected_gpus();
    if (!list.started)
        r.add(
            result("gpu.count", Status::Fail, "nvidia-smi not found", "install the NVIDIA driver"));
    else if (gpus.empty())
        r.add(result("gpu.count", Status::Fail,
                     fmt::format("nvidia-smi -L lists no GPU ({} on the PCI bus): {}", f.pci_gpus,
                                 last_line(list.output)),
                     "read `dmesg | grep -i nvrm`: the driver did not initialise the GPU"));
    else if (want > 0 && static_cast<int>(gpus.size()) != want)
        r.add(result("gpu.count", Status::Fail,
                     fmt::format("{} of {} GPUs visible to nvidia-smi ({} on the PCI bus)",
                                 gpus.size(), want, f.pci_gpus),
                     "a GPU failed to initialise: read `dmesg | grep -i nvrm`, or stop and start "
                     "the instance"));
    else
        r.add(result(
            "gpu.count", Status::Pass,
            fmt::format("{} GPU{}: {}", gpus.size(), gpus.size() == 1 ? "" : "s", gpus.front())));
    r.add(cc_mode(sys, cfg));
}

} // namespace ccbake::check
