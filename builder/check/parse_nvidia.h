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

} // namespace ccbake::check
