#pragma once
// What the checker checks on this image: written at bake time to /etc/ccbake/check.json by
// the guest_check step, read at boot. Unknown keys and bad values are errors naming the key.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ccbake::check {

// Every check id the checker knows, in report order, with its title.
struct CheckInfo {
    const char* id;
    const char* title;
};
const std::vector<CheckInfo>& known_checks();
const char* check_title(const std::string& id);
// The groups a `required` entry may name instead of an id: "tdx", "kernel", "gpu", "attest".
const std::vector<std::string>& check_groups();
// "" when `entry` names a check or a group; otherwise a reason.
std::string required_entry_error(const std::string& entry);

struct Tools {
    std::string tdx_attest = "/opt/intel/tdx-quote-generation-sample/test_tdx_attest";
    std::string quote_verify = "/opt/intel/dcap/confidential-computing.tee.dcap-DCAP_1.21/"
                               "SampleCode/QuoteVerificationSample/app";
    std::string ppcie_python = "/opt/nvtrust/venv/bin/python3";
};

struct Config {
    std::vector<std::string> required = {"tdx", "kernel", "gpu", "attest"};
    std::string min_kernel = "6.6.0";
    std::uint64_t swiotlb_bytes = 0; // 0: the recipe sets none; only the kernel's own line is shown
    int persistenced_timeout_s = 600;
    int attestation_timeout_s = 300;
    std::string gpu_mode = "cc"; // none, cc (single- or multi-GPU confidential computing), ppcie
    int gpus = 0;                // expected GPU count; 0: at least one (8 for ppcie)
    int switches = 0;            // expected NVSwitch count; 0: any (4 for ppcie)
    bool set_ready_state =
        false; // cc mode: set the GPUs ready after every other required check passed
    Tools tools;

    bool is_required(const std::string& id) const;
    int expected_gpus() const { return gpus > 0 ? gpus : (gpu_mode == "ppcie" ? 8 : 0); }
    int expected_switches() const {
        return switches > 0 ? switches : (gpu_mode == "ppcie" ? 4 : 0);
    }
};

// Throws std::runtime_error naming the key on a bad document.
Config config_from_json(const nlohmann::json& j);
nlohmann::json config_to_json(const Config& c);

} // namespace ccbake::check
