// Remote attestation checks: the TDX quote (generate with test_tdx_attest, verify with the
// DCAP sample), the PPCIe verifier for GPUs and NVSwitches or the local GPU verifier for one
// GPU, then the GPU ready state.
#include "check/checks_impl.h"
#include "check/parse_dcap.h"
#include "check/parse_nvidia.h"
#include "check/text.h"

#include <fmt/format.h>

namespace ccbake::check {

namespace {

std::string dir_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

std::string timed_out(const std::string& tool, int seconds) {
    return fmt::format("{} did not finish within {}s", tool, seconds);
}

} // namespace

void check_tdx_attestation(System& sys, const Config& cfg, const Facts& f, Report& r) {
    if (!f.tdx_device) {
        r.add(result("attest.tdx_quote", Status::Skip,
                     "TDX absent: no /dev/tdx_guest to ask for a quote"));
        r.add(result("attest.tdx_verify", Status::Skip, "TDX absent: no quote to verify"));
        return;
    }
    const int timeout = cfg.attestation_timeout_s;
    std::string work = sys.make_temp_dir();
    if (work.empty()) {
        r.add(result("attest.tdx_quote", Status::Fail, "cannot create a scratch directory",
                     "check TMPDIR and /tmp"));
        r.add(result("attest.tdx_verify", Status::Skip, "no quote to verify"));
        return;
    }
    struct Cleanup {
        System& sys;
        std::string dir;
        ~Cleanup() { sys.remove_temp_dir(dir); }
    } cleanup{sys, work};
    auto gen = sys.run({cfg.tools.tdx_attest}, timeout, work);
    Verdict q;
    if (!gen.started)
        q = {Status::Fail, cfg.tools.tdx_attest + " not found",
             "bake the recipe's TDX attestation steps"};
    else if (gen.timed_out)
        q = {Status::Fail, timed_out("test_tdx_attest", timeout), "check the host's quote service"};
    else
        q = judge_quote_generation(gen.output, gen.exit_code);
    CheckResult quote = result("attest.tdx_quote", q.status, q.evidence, q.hint);
    quote.details["output_tail"] = tail_lines(gen.output, 10);
    r.add(quote);

    if (q.status != Status::Pass) {
        r.add(result("attest.tdx_verify", Status::Skip,
                     "no quote to verify (quote generation failed)"));
        return;
    }
    const std::string app = cfg.tools.quote_verify;
    auto ver = sys.run({app, "-quote", work + "/quote.dat"}, timeout, dir_of(app));
    Verdict v;
    if (!ver.started)
        v = {Status::Fail, app + " not found",
             "bake the recipe's DCAP QuoteVerificationSample build"};
    else if (ver.timed_out)
        v = {Status::Fail, timed_out("QuoteVerificationSample", timeout),
             "check the network to the PCCS"};
    else
        v = judge_quote_verification(ver.output);
    CheckResult verify = result("attest.tdx_verify", v.status, v.evidence, v.hint);
    verify.details["output_tail"] = tail_lines(ver.output, 20);
    r.add(verify);
}

void check_ppcie(System& sys, const Config& cfg, const Facts& f, Report& r) {
    if (cfg.gpu_mode != "ppcie") {
        r.add(not_applicable("attest.ppcie", "not a PPCIe image (gpu_mode: " + cfg.gpu_mode + ")"));
        return;
    }
    if (std::string why = gpu_unavailable(cfg, f, r); !why.empty()) {
        r.add(result("attest.ppcie", Status::Skip, why));
        return;
    }
    const int timeout = cfg.attestation_timeout_s;
    auto run = sys.run({cfg.tools.ppcie_python, "-m", "ppcie.verifier.verification",
                        "--gpu-attestation-mode=REMOTE", "--switch-attestation-mode=REMOTE"},
                       timeout);
    Verdict v;
    PpcieTranscript t = parse_ppcie(run.output);
    if (!run.started)
        v = {Status::Fail, cfg.tools.ppcie_python + " not found",
             "bake the recipe's nvtrust venv step"};
    else if (run.timed_out)
        v = {Status::Fail, timed_out("the PPCIe verifier", timeout), "check the network to NRAS"};
    else
        v = judge_ppcie(t, cfg.expected_gpus(), cfg.expected_switches());
    CheckResult c = result("attest.ppcie", v.status, v.evidence, v.hint);
    nlohmann::json stages = nlohmann::json::object();
    for (const auto& [stage, status] : t.stages)
        stages[stage] = status;
    c.details = {
        {"stages", stages}, {"errors", t.errors}, {"output_tail", tail_lines(run.output, 40)}};
    if (t.gpus) c.details["gpus"] = *t.gpus;
    if (t.switches) c.details["switches"] = *t.switches;
    if (t.ready) c.details["ready"] = *t.ready;
    r.add(c);
}

void check_gpu_attestation(System& sys, const Config& cfg, const Facts& f, Report& r) {
    if (cfg.gpu_mode != "cc") {
        r.add(not_applicable("attest.gpu",
                             "not a single-GPU CC image (gpu_mode: " + cfg.gpu_mode + ")"));
        return;
    }
    if (std::string why = gpu_unavailable(cfg, f, r); !why.empty()) {
        r.add(result("attest.gpu", Status::Skip, why));
        return;
    }
    // --user_mode: the verifier leaves the ready state alone; gpu.ready_state sets it once
    // every required check passed.
    auto run = sys.run({cfg.tools.ppcie_python, "-m", "verifier.cc_admin", "--user_mode"},
                       cfg.attestation_timeout_s);
    Verdict v;
    if (!run.started)
        v = {Status::Fail, cfg.tools.ppcie_python + " not found",
             "bake the recipe's nvtrust venv step (gpu_verifiers/local_gpu_verifier)"};
    else if (run.timed_out)
        v = {Status::Fail, timed_out("the local GPU verifier", cfg.attestation_timeout_s),
             "check the network to NVIDIA's RIM and OCSP services"};
    else
        v = judge_gpu_verifier(parse_gpu_verifier(run.output), run.exit_code, cfg.expected_gpus());
    CheckResult c = result("attest.gpu", v.status, v.evidence, v.hint);
    c.details["output_tail"] = tail_lines(run.output, 30);
    r.add(c);
}

void check_ready_state(System& sys, const Config& cfg, const Facts& f, Report& r) {
    if (cfg.gpu_mode == "none") {
        r.add(not_applicable("gpu.ready_state", "the image has no GPU checks (gpu_mode: none)"));
        return;
    }
    if (std::string why = gpu_unavailable(cfg, f, r); !why.empty()) {
        r.add(result("gpu.ready_state", Status::Skip, why));
        return;
    }
    std::string note;
    if (cfg.gpu_mode == "cc" && cfg.set_ready_state) {
        // Only once every other required check passed: a ready GPU accepts work.
        std::vector<std::string> failed;
        for (const auto& c : r.checks())
            if (c.applicable && cfg.is_required(c.id) && c.status != Status::Pass)
                failed.push_back(c.id);
        if (failed.empty()) {
            auto set = sys.run({"nvidia-smi", "conf-compute", "-srs", "1"}, 120);
            note = set.exit_code == 0 ? "; set by ccbake-check (nvidia-smi conf-compute -srs 1)"
                                      : "; setting it failed: " + last_line(set.output);
        } else {
            std::string list;
            for (const auto& id : failed)
                list += (list.empty() ? "" : ", ") + id;
            note = "; left unset because required checks failed: " + list;
        }
    }
    auto grs = sys.run({"nvidia-smi", "conf-compute", "-grs"}, 120);
    auto ready = parse_ready_state(grs.output);
    std::string line =
        last_line(grs.output); // as the driver words it, e.g. "...Ready state: not-ready"
    if (ready == true)
        r.add(result("gpu.ready_state", Status::Pass, line + note));
    else if (ready == false)
        r.add(result("gpu.ready_state", Status::Fail, line + note,
                     cfg.gpu_mode == "ppcie"
                         ? "the PPCIe verifier sets it after every stage passed: see attest.ppcie"
                         : "after attesting the GPU, set it with `nvidia-smi conf-compute -srs 1` "
                           "(or set_ready_state "
                           "in the recipe's guest_check step)"));
    else
        r.add(result("gpu.ready_state", Status::Fail,
                     fmt::format("nvidia-smi conf-compute -grs exited {}: {}", grs.exit_code,
                                 last_line(grs.output)),
                     "the GPU is not in a confidential-computing mode"));
}

} // namespace ccbake::check
