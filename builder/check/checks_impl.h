#pragma once
// Internal to the checks: the facts several checks share, and one function per family.
#include "check/checks.h"

#include <string>
#include <vector>

namespace ccbake::check {

struct Facts {
    std::vector<std::string> kernel_log; // message text of each record
    int pci_gpus = 0;                    // NVIDIA display/3D controllers on the PCI bus
    int pci_switches = 0;                // NVIDIA bridges (NVSwitch)
    bool tdx_device = false;
};

// A result for check `id` with its title filled in.
CheckResult result(const std::string& id, Status s, std::string evidence, std::string hint = {});
// A skip because the configuration says the check does not apply.
CheckResult not_applicable(const std::string& id, std::string why);

Facts gather_facts(System& sys);

void check_tdx(System& sys, const Config& cfg, const Facts& f, Report& r);
void check_kernel(System& sys, const Config& cfg, const Facts& f, Report& r);
// gpu.persistenced, gpu.fabricmanager, gpu.count, gpu.cc_mode
void check_gpu(System& sys, const Config& cfg, const Facts& f, Report& r, const Progress& progress);
// attest.tdx_quote, attest.tdx_verify
void check_tdx_attestation(System& sys, const Config& cfg, const Facts& f, Report& r);
// attest.ppcie
void check_ppcie(System& sys, const Config& cfg, const Facts& f, Report& r);
// attest.gpu (single-GPU CC: nvtrust's local GPU verifier)
void check_gpu_attestation(System& sys, const Config& cfg, const Facts& f, Report& r);
// gpu.ready_state (last: single-GPU CC may set it once everything else required passed)
void check_ready_state(System& sys, const Config& cfg, const Facts& f, Report& r);

// Why GPU checks cannot run, or "" when they can.
std::string gpu_unavailable(const Config& cfg, const Facts& f, const Report& r);

} // namespace ccbake::check
