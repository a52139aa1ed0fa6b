#include "check/parse_dcap.h"
#include "check/parse_kernel.h"
#include "check/parse_nvidia.h"
#include "check_fixture.h"
#include "util/kernel_release.h"

#include <doctest/doctest.h>

using namespace ccbake::check;

TEST_CASE("kernel log: kmsg and dmesg formats give the same TDX lines") {
    for (const char* f : {"kernel/tdx-guest.kmsg", "kernel/tdx-guest.dmesg"}) {
        auto log = kernel_log_lines(check_fixture(f));
        TdxLog t = find_tdx_lines(log);
        CHECK_MESSAGE(t.guest_detected == "tdx: Guest detected", f);
        CHECK(t.memory_encryption == "Memory Encryption Features active: Intel TDX");
        CHECK(t.idle_routine == "process: using TDX aware idle routine");
        auto m = swiotlb_mapped(log);
        REQUIRE(m);
        CHECK(m->mib == 4096);
        CHECK(m->adjusted.empty());
    }
}

TEST_CASE("kernel log: kmsg continuation lines are not messages") {
    for (const auto& line : kernel_log_lines(check_fixture("kernel/tdx-guest.kmsg")))
        CHECK(line.rfind("SUBSYSTEM=", 0) != 0);
}

TEST_CASE("kernel log: a plain VM has no TDX lines and no bounce buffer") {
    auto log = kernel_log_lines(check_fixture("kernel/qemu.dmesg"));
    TdxLog t = find_tdx_lines(log);
    CHECK(t.guest_detected.empty());
    CHECK(t.memory_encryption.empty());
    CHECK(!swiotlb_mapped(log));
}

TEST_CASE("kernel log: recorded on a KVM VM without TDX (swiotlb=noforce, driver 580)") {
    auto log = kernel_log_lines(check_fixture("kernel/kvm-vm-580.dmesg"));
    TdxLog t = find_tdx_lines(log);
    CHECK(t.guest_detected.empty());
    CHECK(t.memory_encryption.empty());
    CHECK(!swiotlb_mapped(log)); // "software IO TLB: No low mem": bounce buffering, no pool
    CHECK(!has_cpu_flag(check_fixture("kernel/kvm-vm.cpuinfo"), "tdx_guest"));
    CHECK(has_cpu_flag(check_fixture("kernel/kvm-vm.cpuinfo"), "hypervisor"));
}

TEST_CASE("kernel log: a swiotlb shortfall shows the adjusted and the mapped size") {
    auto m = swiotlb_mapped(kernel_log_lines(check_fixture("kernel/swiotlb-shortfall.dmesg")));
    REQUIRE(m);
    CHECK(m->mib == 1024);
    CHECK(m->adjusted.find("2097152 -> 524288 slabs") != std::string::npos);
}

TEST_CASE("cpuinfo: the tdx_guest flag is a whole word of the flags line") {
    CHECK(has_cpu_flag(check_fixture("kernel/tdx-guest.cpuinfo"), "tdx_guest"));
    CHECK(!has_cpu_flag(check_fixture("kernel/qemu.cpuinfo"), "tdx_guest"));
    CHECK(!has_cpu_flag("flags\t\t: fpu tdx_guest_x\n", "tdx_guest"));
}

TEST_CASE("command line: swiotlb= counts 2 KiB slabs; the last one wins; force alone is no size") {
    CHECK(*cmdline_swiotlb_slabs("ro console=ttyS0 swiotlb=2097152 iommu=pt") * kSwiotlbSlabBytes ==
          4ull << 30);
    CHECK(*cmdline_swiotlb_slabs("swiotlb=65536 swiotlb=524288,force") == 524288);
    CHECK(!cmdline_swiotlb_slabs("swiotlb=force quiet"));
    CHECK(!cmdline_swiotlb_slabs("ro quiet"));
}

TEST_CASE("kernel releases compare by their numbers") {
    CHECK(ccbake::util::compare_kernel_releases("6.8.0-1028-intel", "6.6.0") > 0);
    CHECK(ccbake::util::compare_kernel_releases("5.15.0-125-generic", "6.6.0") < 0);
    CHECK(ccbake::util::compare_kernel_releases("6.6", "6.6.0") == 0);
    CHECK(ccbake::util::compare_kernel_releases("6.8.0-45-generic", "6.8.0-40-generic") > 0);
    CHECK(ccbake::util::compare_kernel_releases("6.1.0-amd64", "6.1.0-1-amd64") < 0);
    CHECK(!ccbake::util::is_kernel_release("linux"));
}

TEST_CASE("nvidia-smi -L: GPU lines are counted, 8 and 7 of 8") {
    auto eight = parse_gpu_list(check_fixture("nvidia-smi/L-8xH100.txt"));
    CHECK(eight.size() == 8);
    CHECK(eight[0].rfind("GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-", 0) == 0);
    CHECK(parse_gpu_list(check_fixture("nvidia-smi/L-7of8.txt")).size() == 7);
    CHECK(parse_gpu_list(
              "GPU 0: NVIDIA H100 (UUID: GPU-1)\n  MIG 1g.10gb     Device  0: (UUID: MIG-2)\n")
              .size() == 1);
    CHECK(parse_gpu_list("No devices were found\n").empty());
}

TEST_CASE("nvidia-smi conf-compute: CC status, ready state and multi-GPU mode") {
    CHECK(parse_cc_status(check_fixture("nvidia-smi/conf-compute-f-on.txt")) == true);
    CHECK(parse_cc_status(check_fixture("nvidia-smi/conf-compute-f-off.txt")) == false);
    CHECK(!parse_cc_status("Failed to initialize NVML: Driver/library version mismatch\n"));
    CHECK(parse_cc_status("GPU 0: CC status: ON\nGPU 1: CC status: ON\n") == true);
    CHECK(parse_cc_status("GPU 0: CC status: ON\nGPU 1: CC status: OFF\n") == false);
    CHECK(parse_ready_state(check_fixture("nvidia-smi/conf-compute-grs-ready.txt")) == true);
    CHECK(parse_ready_state(check_fixture("nvidia-smi/conf-compute-grs-not-ready.txt")) == false);
    std::string q = check_fixture("nvidia-smi/conf-compute-q-ppcie.txt");
    CHECK(parse_multi_gpu_mode(q) == "Protected PCIe");
    CHECK(parse_cc_status(q) == false); // Protected PCIe reports CC off
    CHECK(parse_ready_state(q) == false);
}

TEST_CASE("nvidia-smi as recorded on a real H100 (driver 580, CC off)") {
    auto rec = [](const std::string& name) {
        return check_fixture("../nvidia-smi-recorded/" + name);
    };
    CHECK(parse_gpu_list(rec("nvidia-smi_-L.txt")).size() == 1);
    CHECK(parse_cc_status(rec("nvidia-smi_conf-compute_-f.txt")) == false);
    CHECK(parse_ready_state(rec("nvidia-smi_conf-compute_-grs.txt")) ==
          false); // "...Ready state: not-ready"
    CHECK(parse_ready_state(rec("nvidia-smi_conf-compute_-q.txt")) == false);
    CHECK(parse_multi_gpu_mode(rec("nvidia-smi_conf-compute_-q.txt")) == "None");
    CHECK(parse_ready_state("\nConfidential Compute GPUs Ready state: ready\n\n") == true);
    // The same driver on an H200: the same formats.
    auto gpus = parse_gpu_list(rec("h200/nvidia-smi_-L.txt"));
    REQUIRE(gpus.size() == 1);
    CHECK(parse_ready_state(rec("h200/nvidia-smi_conf-compute_-grs.txt")) == false);
    CHECK(parse_cc_status(rec("h200/nvidia-smi_conf-compute_-f.txt")) == false);
}

TEST_CASE("PPCIe verifier: 8 GPUs, 4 switches, every stage SUCCESS and READY passes") {
    PpcieTranscript t = parse_ppcie(check_fixture("ppcie/success-8gpu-4switch.txt"));
    CHECK(t.gpus == 8);
    CHECK(t.switches == 4);
    REQUIRE(t.stages.size() == 5);
    CHECK(t.stages[0] == std::make_pair(std::string("GPU Pre-checks"), std::string("SUCCESS")));
    CHECK(t.stages[4].first == "Topology checks");
    CHECK(t.ready == true);
    Verdict v = judge_ppcie(t, 8, 4);
    CHECK(v.status == Status::Pass);
    CHECK(v.evidence == "8 GPUs, 4 NVSwitches; all 5 stages SUCCESS; GPU state is READY");
}

TEST_CASE("PPCIe verifier: a FAILED stage fails and is named") {
    PpcieTranscript t = parse_ppcie(check_fixture("ppcie/gpu-attestation-failed.txt"));
    CHECK(t.ready == false);
    Verdict v = judge_ppcie(t, 8, 4);
    CHECK(v.status == Status::Fail);
    CHECK(v.evidence.find("GPU Attestation FAILED") != std::string::npos);
    CHECK(v.evidence.find("Switch Attestation SKIPPED") != std::string::npos);
    CHECK(!v.hint.empty());
}

TEST_CASE("PPCIe verifier: 7 of 8 GPUs fails even though the verifier's table says SUCCESS") {
    PpcieTranscript t = parse_ppcie(check_fixture("ppcie/7-of-8-gpus.txt"));
    CHECK(t.gpus == 7);
    CHECK(t.ready == true);
    Verdict v = judge_ppcie(t, 8, 4);
    CHECK(v.status == Status::Fail);
    CHECK(v.evidence == "7 GPUs, 4 NVSwitches (expected 8 GPUs)");
}

TEST_CASE("PPCIe verifier: output without a table fails with the verifier's error") {
    Verdict v = judge_ppcie(
        parse_ppcie("PPCIE: Starting PPCIE Verification Tool\n"
                    "An error occurred while using the PPCIE Verification Tool NVML init\n"),
        8, 4);
    CHECK(v.status == Status::Fail);
    CHECK(v.evidence.find("An error occurred") != std::string::npos);
}

TEST_CASE("DCAP: quote generation is judged by its success line") {
    Verdict ok = judge_quote_generation(check_fixture("dcap/test_tdx_attest-ok.txt"), 0);
    CHECK(ok.status == Status::Pass);
    CHECK(ok.evidence == "Successfully get the TD Quote; Wrote TD Quote to quote.dat");
    // Its RTMR extends fail on upstream tdx_guest drivers and land mid-dump (stderr is not
    // buffered, stdout is): they are no reason to fail a quote that was written.
    CHECK(check_fixture("dcap/test_tdx_attest-ok.txt").find("Failed to extend rtmr[2]") !=
          std::string::npos);
    Verdict bad = judge_quote_generation(check_fixture("dcap/test_tdx_attest-no-qgs.txt"), 1);
    CHECK(bad.status == Status::Fail);
    CHECK(bad.evidence == "test_tdx_attest exited 1: Failed to get the quote");
}

TEST_CASE("DCAP: quote verification needs both success lines of the untrusted path") {
    Verdict ok = judge_quote_verification(check_fixture("dcap/qvs-ok.txt"));
    CHECK(ok.status == Status::Pass);
    CHECK(ok.evidence == "[APP] Info: App: Verification completed successfully.");
    CHECK(judge_quote_verification("[APP] Info: App: tee_verify_quote successfully returned.\n"
                                   "[APP] Info: App: Verification completed successfully.\n")
              .status == Status::Pass);
    Verdict net = judge_quote_verification(check_fixture("dcap/qvs-pccs-unreachable.txt"));
    CHECK(net.status == Status::Fail);
    CHECK(net.evidence == "[APP] Error: App: tee_verify_quote failed: 0xe019");
    Verdict stale = judge_quote_verification(check_fixture("dcap/qvs-out-of-date.txt"));
    CHECK(stale.status == Status::Fail);
    CHECK(stale.evidence ==
          "[APP] Warning: App: Verification completed with Non-terminal result: a002");
}
