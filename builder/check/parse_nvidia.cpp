#include "check/parse_nvidia.h"

#include "check/text.h"

#include <fmt/format.h>
#include <regex>

namespace ccbake::check {

std::vector<std::string> parse_gpu_list(const std::string& out) {
    static const std::regex gpu(R"(^GPU \d+: .+)");
    std::vector<std::string> gpus;
    for (const auto& line : lines_of(out))
        if (std::regex_match(line, gpu)) gpus.push_back(line);
    return gpus;
}

std::optional<bool> parse_cc_status(const std::string& out) {
    // One "CC status: X" line, or one per GPU ("GPU 0: CC status: X"): every one must be ON.
    std::optional<bool> on;
    for (const auto& line : lines_of(out)) {
        auto at = line.find("CC status:");
        std::string v = at == std::string::npos ? "" : trim(line.substr(at + 10));
        if (at == std::string::npos && trim(line.substr(0, line.find(':'))) == "CC State")
            v = trim(line.substr(line.find(':') + 1));
        if (v == "ON")
            on = on.value_or(true);
        else if (v == "OFF")
            on = false;
    }
    return on;
}

std::optional<bool> parse_ready_state(const std::string& out) {
    for (const auto& line : lines_of(out)) {
        auto colon = line.find(':');
        if (colon == std::string::npos || !contains(lower(line.substr(0, colon)), "ready state"))
            continue;
        std::string v = lower(trim(line.substr(colon + 1)));
        if (v == "ready") return true;
        if (v == "not ready" || v == "not-ready") return false;
    }
    return std::nullopt;
}

std::string parse_multi_gpu_mode(const std::string& out) {
    return value_after(out, "Multi-GPU Mode");
}

const std::vector<std::string>& ppcie_stage_names() {
    static const std::vector<std::string> names = {"GPU Pre-checks", "Switch Pre-checks",
                                                   "GPU Attestation", "Switch Attestation",
                                                   "Topology checks"};
    return names;
}

PpcieTranscript parse_ppcie(const std::string& out) {
    static const std::regex gpus(R"(Number of GPUs are:\s*(\d+))");
    static const std::regex switches(R"(Number of NVSwitches are:\s*(\d+))");
    PpcieTranscript t;
    for (const auto& raw : lines_of(out)) {
        // Its log lines come boxed: a row of '*', "*   MESSAGE   *", a row of '*'.
        const std::string boxed = trim(raw);
        if (!boxed.empty() && boxed.find_first_not_of('*') == std::string::npos) continue;
        const std::string line = boxed.size() > 2 && boxed.front() == '*' && boxed.back() == '*'
                                     ? trim(boxed.substr(1, boxed.size() - 2))
                                     : raw;
        std::smatch m;
        if (std::regex_search(line, m, gpus)) t.gpus = std::stoi(m[1].str());
        if (std::regex_search(line, m, switches)) t.switches = std::stoi(m[1].str());
        std::string l = lower(line);
        if (contains(l, "gpu state is ready") || contains(l, "set gpu state to true"))
            t.ready = true;
        if (contains(l, "gpu state is not ready") || contains(l, "set gpu state to false"))
            t.ready = false;
        if (contains(l, "error") || contains(l, "exiting") || contains(l, "terminating") ||
            contains(l, "failed to"))
            t.errors.push_back(trim(line));
        // A table row: "|  GPU Pre-checks  | SUCCESS |"
        if (line.size() > 1 && line.front() == '|' && line.back() == '|') {
            std::vector<std::string> cells;
            size_t start = 1;
            for (size_t bar = line.find('|', start); bar != std::string::npos;
                 bar = line.find('|', start)) {
                cells.push_back(trim(line.substr(start, bar - start)));
                start = bar + 1;
            }
            if (cells.size() == 2 && cells[0] != "STAGE") t.stages.emplace_back(cells[0], cells[1]);
        }
    }
    return t;
}

Verdict judge_ppcie(const PpcieTranscript& t, int expected_gpus, int expected_switches) {
    std::string counts =
        fmt::format("{} GPUs, {} NVSwitches", t.gpus ? std::to_string(*t.gpus) : "?",
                    t.switches ? std::to_string(*t.switches) : "?");
    if (t.stages.empty()) {
        std::string why = t.errors.empty() ? "no stage table in its output" : t.errors.front();
        return {Status::Fail,
                fmt::format("verifier ended without its stage table ({}): {}", counts, why),
                "read the verifier's output in the report's details; GPUs, switches, driver, "
                "fabric manager "
                "and NSCQ must all be present"};
    }
    std::vector<std::string> bad;
    for (const auto& name : ppcie_stage_names()) {
        std::string status = "missing";
        for (const auto& [stage, s] : t.stages)
            if (stage == name) status = s;
        if (status != "SUCCESS") bad.push_back(fmt::format("{} {}", name, status));
    }
    if (expected_gpus > 0 && t.gpus != expected_gpus)
        return {Status::Fail, fmt::format("{} (expected {} GPUs)", counts, expected_gpus),
                "the instance does not see every GPU: check its type and that all GPUs are in "
                "PPCIe mode"};
    if (expected_switches > 0 && t.switches != expected_switches)
        return {
            Status::Fail, fmt::format("{} (expected {} NVSwitches)", counts, expected_switches),
            "the instance does not see every NVSwitch: check fabric manager and libnvidia-nscq"};
    if (!bad.empty()) {
        std::string first_error = t.errors.empty() ? "" : "; " + t.errors.front();
        std::string joined;
        for (const auto& b : bad)
            joined += (joined.empty() ? "" : ", ") + b;
        return {Status::Fail, fmt::format("{}; stage {}{}", counts, joined, first_error),
                "the first failed stage names the problem; rerun the verifier with --log=DEBUG to "
                "see why"};
    }
    if (t.ready != true)
        return {Status::Fail,
                fmt::format("{}; all 5 stages SUCCESS but the GPU state is not READY", counts),
                "run `nvidia-smi conf-compute -grs`; the verifier sets the ready state only after "
                "every stage"};
    return {Status::Pass, fmt::format("{}; all 5 stages SUCCESS; GPU state is READY", counts), {}};
}

GpuVerifierTranscript parse_gpu_verifier(const std::string& out) {
    GpuVerifierTranscript t;
    static const std::regex count(R"(Number of GPUs available\s*:\s*(\d+))");
    static const std::regex verified(R"(GPU \d+ with UUID \S+ verified successfully\.)");
    std::smatch m;
    for (const auto& raw : lines_of(out)) {
        const std::string line = trim(raw);
        if (std::regex_search(line, m, count))
            t.gpus = std::stoi(m[1]);
        else if (std::regex_search(line, verified))
            ++t.verified;
        else if (line == "GPU Attestation is Successful.")
            t.success = true;
        else if (line == "GPU Attestation failed." || line == "Attestation Failed")
            t.success = false;
    }
    return t;
}

Verdict judge_gpu_verifier(const GpuVerifierTranscript& t, int exit_code, int expected_gpus) {
    const std::string counts =
        fmt::format("{} of {} GPUs verified", t.verified, t.gpus ? std::to_string(*t.gpus) : "?");
    if (t.success != true || exit_code != 0)
        return {Status::Fail,
                fmt::format("the local GPU verifier says attestation failed ({}, exit {})", counts,
                            exit_code),
                "its output tail is in the details; check the network to NVIDIA's RIM and OCSP "
                "services"};
    if (expected_gpus > 0 && t.gpus != expected_gpus)
        return {Status::Fail,
                fmt::format("the local GPU verifier saw {} GPUs, expected {}",
                            t.gpus ? std::to_string(*t.gpus) : "?", expected_gpus),
                "a GPU is missing from the guest"};
    if (!t.gpus || t.verified != *t.gpus)
        return {Status::Fail, fmt::format("not every GPU was verified ({})", counts),
                "its output tail is in the details"};
    return {Status::Pass, fmt::format("GPU attestation successful: {}", counts), ""};
}

} // namespace ccbake::check
