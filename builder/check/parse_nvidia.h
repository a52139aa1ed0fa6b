#pragma once
// Parsers and verdicts for NVIDIA's tools as they print: `nvidia-smi -L`,
// `nvidia-smi conf-compute -f / -grs / -q`, and the PPCIe verifier's transcript (its log
// lines and its STAGE/STATUS table).
#include "check/report.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ccbake::check {

// "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-...)" lines (MIG device lines are not GPUs).
std::vector<std::string> parse_gpu_list(const std::string& out);

// "CC status: ON" / "CC status: OFF" (conf-compute -f); nullopt when absent.
std::optional<bool> parse_cc_status(const std::string& out);
// The ready state: "CC GPUs Ready State: Ready" / "Not Ready" (older drivers' -grs, and -q
// with spaces before the colon) or "Confidential Compute GPUs Ready state: ready" /
// "not-ready" (-grs of 580 drivers); nullopt when absent.
std::optional<bool> parse_ready_state(const std::string& out);
// "Multi-GPU Mode : Protected PCIe" (conf-compute -q); "" when absent.
std::string parse_multi_gpu_mode(const std::string& out);

struct PpcieTranscript {
    std::vector<std::pair<std::string, std::string>> stages; // "GPU Pre-checks" -> "SUCCESS"
    std::optional<int> gpus, switches;
    std::optional<bool> ready;       // "GPU state is READY" / "set gpu state to True" vs NOT READY
    std::vector<std::string> errors; // the verifier's error lines, first first
};
PpcieTranscript parse_ppcie(const std::string& out);

// The five stages the verifier must report, in its order.
const std::vector<std::string>& ppcie_stage_names();

// Pass only when every stage is SUCCESS, the counts match and the GPUs are ready.
Verdict judge_ppcie(const PpcieTranscript& t, int expected_gpus, int expected_switches);

// nvtrust's local GPU verifier (`python3 -m verifier.cc_admin`, nv-local-gpu-verifier 2.6.1):
// "Number of GPUs available : N", one "GPU i with UUID ... verified successfully." per GPU,
// and "GPU Attestation is Successful." or "GPU Attestation failed." at the end.
struct GpuVerifierTranscript {
    std::optional<int> gpus;
    int verified = 0;
    std::optional<bool> success;
};
GpuVerifierTranscript parse_gpu_verifier(const std::string& out);

// Pass only when it says successful, every GPU verified and the count is the expected one.
Verdict judge_gpu_verifier(const GpuVerifierTranscript& t, int exit_code, int expected_gpus);

} // namespace ccbake::check
