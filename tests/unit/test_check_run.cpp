#include "check/checks.h"
#include "check_fixture.h"

#include <doctest/doctest.h>
#include <functional>
#include <map>
#include <set>

using namespace ccbake::check;

namespace {

// A machine made of recorded files and scripted commands.
class FakeSystem : public System {
  public:
    std::map<std::string, std::string> files;
    std::set<std::string> dirs;
    std::string kmsg;
    // argv joined by spaces -> result; an unknown program is "not found".
    std::map<std::string, std::function<CommandResult()>> commands;
    std::vector<std::string> ran;
    int slept = 0;

    void tool(const std::string& argv, std::string output, int exit_code = 0) {
        commands[argv] = [output, exit_code] {
            return CommandResult{true, exit_code, false, output};
        };
    }
    void pci(const std::string& addr, const std::string& cls) {
        files["/sys/bus/pci/devices/" + addr + "/vendor"] = "0x10de\n";
        files["/sys/bus/pci/devices/" + addr + "/class"] = cls + "\n";
    }

    std::optional<std::string> read(const std::string& p) override {
        auto it = files.find(p);
        return it == files.end() ? std::nullopt : std::optional<std::string>(it->second);
    }
    bool exists(const std::string& p) override { return files.count(p) || dirs.count(p); }
    std::vector<std::string> list(const std::string& dir) override {
        std::set<std::string> out;
        for (const auto& [p, _] : files)
            if (p.rfind(dir + "/", 0) == 0)
                out.insert(p.substr(dir.size() + 1, p.find('/', dir.size() + 1) - dir.size() - 1));
        return {out.begin(), out.end()};
    }
    bool make_dir(const std::string& p) override { return dirs.insert(p), true; }
    void remove_dir(const std::string& p) override { dirs.erase(p); }
    std::string kernel_log() override { return kmsg; }
    CommandResult run(const std::vector<std::string>& argv, int, const std::string&) override {
        std::string key;
        for (const auto& a : argv)
            key += (key.empty() ? "" : " ") + a;
        ran.push_back(key);
        auto it = commands.find(key);
        return it == commands.end() ? CommandResult{} : it->second();
    }
    void sleep(int s) override { slept += s; }
    std::string make_temp_dir() override { return "/tmp/fake"; }
    void remove_temp_dir(const std::string& d) override { removed.push_back(d); }
    std::vector<std::string> removed;
};

void plain_vm(FakeSystem& s) {
    s.files["/proc/cpuinfo"] = check_fixture("kernel/qemu.cpuinfo");
    s.files["/proc/sys/kernel/osrelease"] = "6.1.0-41-amd64\n";
    s.files["/proc/cmdline"] =
        "BOOT_IMAGE=/boot/vmlinuz-6.1.0-41-amd64 ro console=ttyS0 swiotlb=2097152\n";
    s.kmsg = check_fixture("kernel/qemu.dmesg");
}

// The vendor's 8-GPU PPCIe instance where everything works.
void ppcie_node(FakeSystem& s) {
    s.files["/proc/cpuinfo"] = check_fixture("kernel/tdx-guest.cpuinfo");
    s.files["/proc/sys/kernel/osrelease"] = "6.8.0-1028-intel\n";
    s.files["/proc/cmdline"] =
        "BOOT_IMAGE=/boot/vmlinuz-6.8.0-1028-intel ro console=ttyS0 swiotlb=2097152 iommu=pt\n";
    s.files["/dev/tdx_guest"] = "";
    s.dirs.insert("/sys/kernel/config/tsm/report");
    s.files["/sys/kernel/config/tsm/report/ccbake-check/provider"] = "tdx_guest\n";
    s.kmsg = check_fixture("kernel/tdx-guest.kmsg");
    for (int i = 0; i < 8; ++i)
        s.pci("0000:0" + std::to_string(i) + ":00.0", "0x030200");
    for (int i = 0; i < 4; ++i)
        s.pci("0000:1" + std::to_string(i) + ":00.0", "0x068000");
    for (const char* unit : {"nvidia-persistenced.service", "nvidia-fabricmanager.service"}) {
        s.tool(std::string("systemctl show -p LoadState --value ") + unit, "loaded\n");
        s.tool(std::string("systemctl is-active ") + unit, "active\n");
    }
    s.tool("nvidia-smi -L", check_fixture("nvidia-smi/L-8xH100.txt"));
    s.tool("nvidia-smi conf-compute -f", check_fixture("nvidia-smi/conf-compute-f-off.txt"));
    s.tool("nvidia-smi conf-compute -q", check_fixture("nvidia-smi/conf-compute-q-ppcie.txt"));
    s.tool("nvidia-smi conf-compute -grs", check_fixture("nvidia-smi/conf-compute-grs-ready.txt"));
    Tools t;
    s.tool(t.tdx_attest, check_fixture("dcap/test_tdx_attest-ok.txt"));
    s.tool(t.quote_verify + " -quote /tmp/fake/quote.dat", check_fixture("dcap/qvs-ok.txt"), 255);
    s.tool(t.ppcie_python + " -m ppcie.verifier.verification --gpu-attestation-mode=REMOTE "
                            "--switch-attestation-mode=REMOTE",
           check_fixture("ppcie/success-8gpu-4switch.txt"));
}

Config ppcie_config() {
    Config c;
    c.gpu_mode = "ppcie";
    c.swiotlb_bytes = 4ull << 30;
    return c;
}

Status status_of(const Report& r, const std::string& id) {
    const CheckResult* c = r.find(id);
    REQUIRE_MESSAGE(c, id);
    return c->status;
}

} // namespace

TEST_CASE("the vendor's 8-GPU PPCIe node passes every check") {
    FakeSystem s;
    ppcie_node(s);
    Report r = run_checks(s, ppcie_config());
    for (const auto& c : r.checks())
        if (c.id == "attest.gpu") // the single-GPU verifier: PPCIe attests through its own
            CHECK_FALSE(c.applicable);
        else
            CHECK_MESSAGE(c.status == Status::Pass, c.id, ": ", c.evidence);
    CHECK(r.checks().size() == known_checks().size());
    CHECK(r.exit_code() == 0);
    CHECK(r.find("kernel.swiotlb")->evidence.find("kernel mapped 4096 MiB") != std::string::npos);
    CHECK(r.find("gpu.cc_mode")->evidence ==
          "Multi-GPU Mode: Protected PCIe (nvidia-smi conf-compute -q)");
    CHECK(r.to_json({})["checks"].size() == known_checks().size());
    CHECK(s.removed == std::vector<std::string>{"/tmp/fake"}); // the quote's scratch directory
}

TEST_CASE("a plain VM says TDX absent and GPU absent; exit code follows the required list") {
    FakeSystem s;
    plain_vm(s);
    Config all;
    Report r = run_checks(s, all);
    CHECK(r.find("tdx.cpu_flag")->evidence == "TDX absent: no tdx_guest flag in /proc/cpuinfo");
    CHECK(r.find("gpu.count")->evidence == "GPU absent: no NVIDIA GPU on the PCI bus");
    CHECK(status_of(r, "tdx.device") == Status::Fail); // required, so a skip is a failure
    CHECK(r.exit_code() == 1);
    CHECK(s.ran.empty()); // no GPU and no TDX: no tool was started

    Config kernel_only;
    kernel_only.required = {"kernel.version"};
    kernel_only.min_kernel = "6.1.0";
    Report k = run_checks(s, kernel_only);
    CHECK(status_of(k, "tdx.device") == Status::Skip);
    CHECK(status_of(k, "kernel.version") == Status::Pass);
    CHECK(k.exit_code() == 0);
    CHECK(k.to_table().find("TDX absent") != std::string::npos);
}

TEST_CASE("persistenced is waited for, then the GPU is touched") {
    FakeSystem s;
    ppcie_node(s);
    int calls = 0;
    s.commands["systemctl is-active nvidia-persistenced.service"] = [&] {
        return CommandResult{true, 0, false, ++calls < 4 ? "activating\n" : "active\n"};
    };
    Report r = run_checks(s, ppcie_config());
    CHECK(r.find("gpu.persistenced")->evidence == "nvidia-persistenced.service active after 15s");
    auto first_smi = std::find_if(s.ran.begin(), s.ran.end(), [](const std::string& c) {
        return c.rfind("nvidia-smi", 0) == 0;
    });
    auto last_poll =
        std::find(s.ran.rbegin(), s.ran.rend(), "systemctl is-active nvidia-persistenced.service");
    CHECK(first_smi - s.ran.begin() > s.ran.rend() - last_poll - 1);
}

TEST_CASE("persistenced that never comes up fails after the timeout and the GPU is left alone") {
    FakeSystem s;
    ppcie_node(s);
    s.tool("systemctl is-active nvidia-persistenced.service", "activating\n", 3);
    Config c = ppcie_config();
    c.persistenced_timeout_s = 12;
    Report r = run_checks(s, c);
    CHECK(r.find("gpu.persistenced")->evidence ==
          "nvidia-persistenced.service still activating after 12s");
    CHECK(s.slept >= 12);
    CHECK(s.slept <= 13);
    CHECK(r.find("gpu.count")->evidence.find("not run: nvidia-persistenced is not active") == 0);
    CHECK(std::none_of(s.ran.begin(), s.ran.end(),
                       [](const std::string& c) { return c.rfind("nvidia-smi", 0) == 0; }));
}

TEST_CASE("failure variants: CC off, 7 of 8 GPUs, quote generation failing, shortfall") {
    FakeSystem s;
    ppcie_node(s);
    s.tool("nvidia-smi -L", check_fixture("nvidia-smi/L-7of8.txt"));
    s.tool(Tools().tdx_attest, check_fixture("dcap/test_tdx_attest-no-qgs.txt"), 1);
    s.kmsg = check_fixture("kernel/swiotlb-shortfall.dmesg");
    Config c; // single-GPU CC config on this node: CC must be ON
    c.gpus = 8;
    s.tool("nvidia-smi conf-compute -f", check_fixture("nvidia-smi/conf-compute-f-off.txt"));
    Report r = run_checks(s, c);
    CHECK(r.find("gpu.count")->evidence == "7 of 8 GPUs visible to nvidia-smi (8 on the PCI bus)");
    CHECK(r.find("gpu.cc_mode")->evidence == "CC status: OFF (nvidia-smi conf-compute -f)");
    CHECK(r.find("attest.tdx_quote")->evidence ==
          "test_tdx_attest exited 1: Failed to get the quote");
    CHECK(r.find("attest.tdx_verify")->status == Status::Fail); // required and nothing to verify
    CHECK(r.find("kernel.swiotlb")->evidence.find("kernel mapped only 1024 MiB") !=
          std::string::npos);
    for (const char* id : {"gpu.count", "gpu.cc_mode", "attest.tdx_quote", "kernel.swiotlb"})
        CHECK_MESSAGE(!r.find(id)->hint.empty(), id);
    CHECK(r.exit_code() == 1);
}

TEST_CASE("single-GPU CC: the ready state is set only after every other required check passed") {
    FakeSystem s;
    ppcie_node(s);
    s.files.erase("/sys/bus/pci/devices/0000:01:00.0/vendor");
    for (int i = 1; i < 8; ++i)
        s.files.erase("/sys/bus/pci/devices/0000:0" + std::to_string(i) + ":00.0/vendor");
    for (int i = 0; i < 4; ++i)
        s.files.erase("/sys/bus/pci/devices/0000:1" + std::to_string(i) + ":00.0/vendor");
    s.tool("nvidia-smi -L", check_fixture("nvidia-smi/L-1xH100.txt"));
    s.tool("nvidia-smi conf-compute -f", check_fixture("nvidia-smi/conf-compute-f-on.txt"));
    bool set = false;
    s.commands["nvidia-smi conf-compute -srs 1"] = [&] {
        set = true;
        return CommandResult{true, 0, false, ""};
    };
    s.commands["nvidia-smi conf-compute -grs"] = [&] {
        return CommandResult{true, 0, false,
                             check_fixture(set ? "nvidia-smi/conf-compute-grs-ready.txt"
                                               : "nvidia-smi/conf-compute-grs-not-ready.txt")};
    };
    s.tool(Tools().ppcie_python + " -m verifier.cc_admin --user_mode",
           check_fixture("gpu-verifier/success-1gpu.txt"));
    Config c;
    c.set_ready_state = true;
    c.swiotlb_bytes = 4ull << 30;

    SUBCASE("all passed: set") {
        Report r = run_checks(s, c);
        CHECK(r.find("gpu.fabricmanager")->applicable == false);
        CHECK(r.find("gpu.ready_state")->evidence ==
              "Confidential Compute GPUs Ready state: ready; set by ccbake-check (nvidia-smi "
              "conf-compute -srs 1)");
        CHECK(r.find("attest.gpu")->evidence == "GPU attestation successful: 1 of 1 GPUs verified");
        CHECK(r.exit_code() == 0);
    }
    SUBCASE("GPU attestation failed: left unset") {
        s.tool(Tools().ppcie_python + " -m verifier.cc_admin --user_mode",
               check_fixture("gpu-verifier/failed-1gpu.txt"), 1);
        Report r = run_checks(s, c);
        CHECK(!set);
        CHECK(r.find("attest.gpu")->status == Status::Fail);
        CHECK(r.find("attest.gpu")->evidence ==
              "the local GPU verifier says attestation failed (0 of 1 GPUs verified, exit 1)");
        CHECK(r.find("gpu.ready_state")->evidence.find("attest.gpu") != std::string::npos);
        CHECK(r.exit_code() == 1);
    }
    SUBCASE("quote verification failed: left unset") {
        s.tool(Tools().quote_verify + " -quote /tmp/fake/quote.dat",
               check_fixture("dcap/qvs-pccs-unreachable.txt"), 255);
        Report r = run_checks(s, c);
        CHECK(!set);
        CHECK(r.find("gpu.ready_state")->evidence ==
              "Confidential Compute GPUs Ready state: not-ready; left unset because required "
              "checks failed: "
              "attest.tdx_verify");
    }
}

TEST_CASE("config: defaults, round trip, and errors that name the key") {
    Config c = config_from_json(nlohmann::json::object());
    CHECK(c.persistenced_timeout_s == 600);
    CHECK(c.is_required("gpu.cc_mode"));
    Config p = ppcie_config();
    p.required = {"tdx", "attest.ppcie"};
    Config back = config_from_json(config_to_json(p));
    CHECK(back.gpu_mode == "ppcie");
    CHECK(back.expected_gpus() == 8);
    CHECK(back.is_required("tdx.device"));
    CHECK(!back.is_required("gpu.count"));
    CHECK_THROWS_WITH(config_from_json({{"requird", {"tdx"}}}), "unknown key 'requird'");
    CHECK_THROWS_WITH(
        config_from_json({{"required", {"tdx.flag"}}}),
        "required: 'tdx.flag' is neither a check nor a group (tdx, kernel, gpu, attest)");
    CHECK_THROWS_WITH(config_from_json({{"gpu_mode", "sev"}}),
                      "gpu_mode 'sev' is not one of none, cc, ppcie");
}

TEST_CASE("without systemd, a running nvidia-persistenced process counts as active") {
    FakeSystem s;
    ppcie_node(s);
    for (const char* unit : {"nvidia-persistenced.service", "nvidia-fabricmanager.service"}) {
        s.commands.erase(std::string("systemctl show -p LoadState --value ") + unit);
        s.commands.erase(std::string("systemctl is-active ") + unit);
    }
    s.files["/proc/812/comm"] = "nvidia-persiste\n"; // the kernel cuts comm at 15 characters
    s.files["/proc/913/comm"] = "nv-fabricmanage\n";
    Report r = run_checks(s, ppcie_config());
    CHECK(r.find("gpu.persistenced")->evidence ==
          "no systemd; nvidia-persistenced.service runs as pid 812");
    CHECK(r.find("gpu.fabricmanager")->status == Status::Pass);
    CHECK(r.exit_code() == 0);
}
