#include "check/config.h"

#include <algorithm>
#include <fmt/format.h>
#include <stdexcept>

namespace ccbake::check {

const std::vector<CheckInfo>& known_checks() {
    static const std::vector<CheckInfo> checks = {
        {"tdx.cpu_flag", "tdx_guest CPU flag"},
        {"tdx.device", "TDX guest device /dev/tdx_guest"},
        {"tdx.kernel_log", "kernel reports a TDX guest with memory encryption"},
        {"tdx.tsm_report", "configfs-tsm report provider"},
        {"kernel.version", "kernel at least the recipe's minimum"},
        {"kernel.swiotlb", "bounce buffer (swiotlb) the kernel mapped"},
        {"gpu.persistenced", "nvidia-persistenced active before the GPU is used"},
        {"gpu.fabricmanager", "nvidia-fabricmanager active (multi-GPU)"},
        {"gpu.count", "GPUs visible to the driver"},
        {"gpu.cc_mode", "GPU confidential-computing mode"},
        {"attest.tdx_quote", "TDX quote generation (test_tdx_attest)"},
        {"attest.tdx_verify", "TDX quote verification (DCAP QuoteVerificationSample)"},
        {"attest.ppcie", "GPU and NVSwitch attestation (PPCIe verifier)"},
        {"attest.gpu", "single-GPU attestation (nvtrust's local GPU verifier)"},
        {"gpu.ready_state", "GPU confidential-computing ready state"},
    };
    return checks;
}

const char* check_title(const std::string& id) {
    for (const auto& c : known_checks())
        if (id == c.id) return c.title;
    return "";
}

const std::vector<std::string>& check_groups() {
    static const std::vector<std::string> groups = {"tdx", "kernel", "gpu", "attest"};
    return groups;
}

std::string required_entry_error(const std::string& entry) {
    const auto& g = check_groups();
    if (std::find(g.begin(), g.end(), entry) != g.end()) return {};
    for (const auto& c : known_checks())
        if (entry == c.id) return {};
    return fmt::format("'{}' is neither a check nor a group (tdx, kernel, gpu, attest)", entry);
}

bool Config::is_required(const std::string& id) const {
    std::string group = id.substr(0, id.find('.'));
    return std::any_of(required.begin(), required.end(),
                       [&](const std::string& r) { return r == id || r == group; });
}

namespace {

template <typename T> void read(const nlohmann::json& j, const char* key, T& out) {
    if (!j.contains(key)) return;
    try {
        out = j.at(key).get<T>();
    } catch (const nlohmann::json::exception&) {
        throw std::runtime_error(
            fmt::format("'{}' has the wrong type ({})", key, j.at(key).dump()));
    }
}

} // namespace

Config config_from_json(const nlohmann::json& j) {
    if (!j.is_object()) throw std::runtime_error("the configuration is not a JSON object");
    static const std::vector<std::string> keys = {"required",
                                                  "min_kernel",
                                                  "swiotlb_bytes",
                                                  "persistenced_timeout_s",
                                                  "attestation_timeout_s",
                                                  "gpu_mode",
                                                  "gpus",
                                                  "switches",
                                                  "set_ready_state",
                                                  "tools"};
    for (const auto& [key, _] : j.items())
        if (std::find(keys.begin(), keys.end(), key) == keys.end())
            throw std::runtime_error(fmt::format("unknown key '{}'", key));
    Config c;
    read(j, "required", c.required);
    read(j, "min_kernel", c.min_kernel);
    read(j, "swiotlb_bytes", c.swiotlb_bytes);
    read(j, "persistenced_timeout_s", c.persistenced_timeout_s);
    read(j, "attestation_timeout_s", c.attestation_timeout_s);
    read(j, "gpu_mode", c.gpu_mode);
    read(j, "gpus", c.gpus);
    read(j, "switches", c.switches);
    read(j, "set_ready_state", c.set_ready_state);
    if (j.contains("tools")) {
        const auto& t = j["tools"];
        if (!t.is_object()) throw std::runtime_error("'tools' is not an object");
        read(t, "tdx_attest", c.tools.tdx_attest);
        read(t, "quote_verify", c.tools.quote_verify);
        read(t, "ppcie_python", c.tools.ppcie_python);
    }
    for (const auto& r : c.required)
        if (auto err = required_entry_error(r); !err.empty())
            throw std::runtime_error("required: " + err);
    if (c.gpu_mode != "none" && c.gpu_mode != "cc" && c.gpu_mode != "ppcie")
        throw std::runtime_error(
            fmt::format("gpu_mode '{}' is not one of none, cc, ppcie", c.gpu_mode));
    if (c.persistenced_timeout_s < 0 || c.attestation_timeout_s <= 0 || c.gpus < 0 ||
        c.switches < 0)
        throw std::runtime_error("timeouts and counts must not be negative");
    return c;
}

nlohmann::json config_to_json(const Config& c) {
    return {
        {"required", c.required},
        {"min_kernel", c.min_kernel},
        {"swiotlb_bytes", c.swiotlb_bytes},
        {"persistenced_timeout_s", c.persistenced_timeout_s},
        {"attestation_timeout_s", c.attestation_timeout_s},
        {"gpu_mode", c.gpu_mode},
        {"gpus", c.gpus},
        {"switches", c.switches},
        {"set_ready_state", c.set_ready_state},
        {"tools",
         {{"tdx_attest", c.tools.tdx_attest},
          {"quote_verify", c.tools.quote_verify},
          {"ppcie_python", c.tools.ppcie_python}}},
    };
}

} // namespace ccbake::check
