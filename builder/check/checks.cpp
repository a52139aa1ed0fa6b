#include "check/checks.h"

#include "check/checks_impl.h"
#include "check/parse_kernel.h"
#include "check/text.h"

#include <fmt/format.h>

namespace ccbake::check {

CheckResult result(const std::string& id, Status s, std::string evidence, std::string hint) {
    CheckResult c;
    c.id = id;
    c.title = check_title(id);
    c.status = s;
    c.evidence = std::move(evidence);
    c.hint = std::move(hint);
    return c;
}

CheckResult not_applicable(const std::string& id, std::string why) {
    CheckResult c = result(id, Status::Skip, std::move(why));
    c.applicable = false;
    return c;
}

Facts gather_facts(System& sys) {
    Facts f;
    for (const auto& dev : sys.list("/sys/bus/pci/devices")) {
        std::string base = "/sys/bus/pci/devices/" + dev;
        if (trim(sys.read(base + "/vendor").value_or("")) != "0x10de") continue;
        std::string cls = trim(sys.read(base + "/class").value_or(""));
        if (cls.rfind("0x0300", 0) == 0 || cls.rfind("0x0302", 0) == 0) ++f.pci_gpus;
        if (cls.rfind("0x0680", 0) == 0) ++f.pci_switches;
    }
    f.kernel_log = kernel_log_lines(sys.kernel_log());
    f.tdx_device = sys.exists("/dev/tdx_guest");
    return f;
}

Report run_checks(System& sys, const Config& cfg, const Progress& progress) {
    Facts f = gather_facts(sys);
    Report r;
    check_tdx(sys, cfg, f, r);
    check_kernel(sys, cfg, f, r);
    check_gpu(sys, cfg, f, r, progress);
    check_tdx_attestation(sys, cfg, f, r);
    check_ppcie(sys, cfg, f, r);
    check_gpu_attestation(sys, cfg, f, r);
    check_ready_state(sys, cfg, f, r);
    r.apply_requirements([&](const std::string& id) { return cfg.is_required(id); });
    return r;
}

std::string gpu_unavailable(const Config& cfg, const Facts& f, const Report& r) {
    if (cfg.gpu_mode == "none") return "the image has no GPU checks (gpu_mode: none)";
    if (f.pci_gpus == 0) return "GPU absent: no NVIDIA GPU on the PCI bus";
    if (!r.passed("gpu.persistenced"))
        return "not run: nvidia-persistenced is not active, and nothing may touch the GPU before "
               "it is";
    return {};
}

} // namespace ccbake::check
