// guest_check: bakes the in-guest checker (ccbake-check), its configuration and a systemd
// oneshot that runs it at every boot after nvidia-persistenced (and fabric manager), writes
// /var/lib/ccbake/check.json and prints the summary on the serial console.
#include "steps/guest_check.h"

#include "steps/context.h"
#include "steps/kinds.h"
#include "target/files.h"
#include "util/error.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <system_error>

namespace ccbake::steps {

using recipe::FieldType;

check::Config guest_check_config(const recipe::Step& s, const recipe::Recipe& r) {
    check::Config c;
    c.required = texts(s.spec, "required");
    c.min_kernel = r.base.min_kernel;
    for (const auto& step : r.steps)
        if (step.kind == "kernel_cmdline" && step.spec.contains("swiotlb"))
            c.swiotlb_bytes = step.spec["swiotlb"].get<std::uint64_t>();
    c.persistenced_timeout_s = s.spec.at("persistenced_timeout").get<int>();
    c.attestation_timeout_s = s.spec.at("attestation_timeout").get<int>();
    c.gpu_mode = text(s.spec, "gpu_mode");
    c.gpus = s.spec.at("gpus").get<int>();
    c.switches = s.spec.at("switches").get<int>();
    c.set_ready_state = flag(s.spec, "set_ready_state");
    c.tools.tdx_attest = text(s.spec, "tdx_attest");
    c.tools.quote_verify = text(s.spec, "quote_verify");
    c.tools.ppcie_python = text(s.spec, "ppcie_python");
    return c;
}

std::string guest_check_unit(const check::Config& c) {
    // Long enough for the persistenced wait, three attestation tools and nvidia-smi calls.
    int timeout = c.persistenced_timeout_s + 3 * c.attestation_timeout_s + 300;
    return fmt::format(
        "# Written by ccbake (guest_check step). Runs the in-guest checks at every boot.\n"
        "[Unit]\n"
        "Description=ccbake in-guest checks: TDX, kernel, GPU and attestation\n"
        "# Wants=, not Requires=: a unit the image lacks does not stop the checks.\n"
        "Wants=nvidia-persistenced.service nvidia-fabricmanager.service\n"
        "After=nvidia-persistenced.service nvidia-fabricmanager.service network-online.target\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        "RemainAfterExit=yes\n"
        "ExecStart={} --config {} --write {}\n"
        "StateDirectory=ccbake\n"
        "StandardOutput=journal+console\n"
        "StandardError=journal+console\n"
        "TimeoutStartSec={}\n"
        "\n"
        "[Install]\n"
        "WantedBy=multi-user.target\n",
        kCheckBinary, kCheckConfig, kCheckReport, timeout);
}

namespace {

// ccbake-check is built and installed beside ccbake.
std::filesystem::path checker_binary() {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    auto path = self.parent_path() / "ccbake-check";
    if (ec || !std::filesystem::is_regular_file(path))
        throw Error(fmt::format("the in-guest checker is missing: no {}", path.string()),
                    "build the ccbake-check target; it is installed next to the ccbake executable");
    return path;
}

// multi-user.target.wants/ccbake-check.service -> the unit, as `systemctl enable` makes it.
std::vector<std::string> enable_unit(const std::filesystem::path& root) {
    const std::string link =
        std::string("/etc/systemd/system/multi-user.target.wants/") + kCheckUnit;
    const std::string unit = std::string("/etc/systemd/system/") + kCheckUnit;
    auto st = target::lstat_in_root(root, link);
    std::error_code ec;
    if (st && S_ISLNK(st->st_mode) &&
        std::filesystem::read_symlink(target::resolve_in_root(root, link), ec) == unit)
        return {};
    target::symlink_in_root(root, unit, link);
    return {"enabled " + std::string(kCheckUnit) + " (multi-user.target)"};
}

StepResult apply_guest_check(StepContext& ctx, const recipe::Step& s) {
    check::Config config = guest_check_config(s, ctx.recipe);
    const auto root = ctx.target.root();
    target::Owner root_owner;
    std::vector<std::string> changes;
    auto ensure = [&](const std::string& inside, target::WantedFile w) {
        w.owner = root_owner;
        for (auto& c : target::ensure_file(root, inside, w))
            changes.push_back(std::move(c));
    };
    ensure(kCheckBinary, {std::nullopt, checker_binary(), 0755, {}});
    ensure(kCheckConfig, {check::config_to_json(config).dump(2) + "\n", {}, 0644, {}});
    ensure(std::string("/etc/systemd/system/") + kCheckUnit,
           {guest_check_unit(config), {}, 0644, {}});
    for (auto& c : enable_unit(root))
        changes.push_back(std::move(c));
    return {changes};
}

std::vector<std::string> describe_guest_check(const recipe::Step& s, const recipe::Recipe& r) {
    check::Config c = guest_check_config(s, r);
    std::vector<std::string> out = {
        fmt::format("install {} and {}", kCheckBinary, kCheckConfig),
        fmt::format(
            "{} at every boot after nvidia-persistenced: report in {} and on the serial console",
            kCheckUnit, kCheckReport),
        fmt::format("required: {}",
                    c.required.empty() ? "nothing (report only)" : util::join(c.required, ", ")),
        fmt::format("gpu mode {}, kernel >= {}, swiotlb {}, persistenced wait {}s", c.gpu_mode,
                    c.min_kernel,
                    c.swiotlb_bytes ? util::human_bytes(c.swiotlb_bytes) : "not set by the recipe",
                    c.persistenced_timeout_s),
    };
    if (c.set_ready_state)
        out.push_back("sets the GPU ready state once every other required check passed");
    return out;
}

} // namespace

const StepKind& guest_check_kind() {
    static const check::Tools tools;
    static const StepKind kind{
        .name = "guest_check",
        .summary =
            "Bake the in-guest checker and run it at every boot (TDX, kernel, GPU, attestation).",
        .details =
            "Copies `ccbake-check` (a static program built beside ccbake) to /usr/lib/ccbake/, "
            "writes what to check to /etc/ccbake/check.json (with the recipe's min_kernel and the "
            "kernel_cmdline step's swiotlb size) and enables `ccbake-check.service`, a oneshot "
            "ordered after nvidia-persistenced.service and nvidia-fabricmanager.service (Wants=, "
            "so a missing unit does not stop it). At every boot it writes "
            "/var/lib/ccbake/check.json and prints a table on the serial console; the unit fails "
            "when a required check failed. It never reboots. See docs/check.md for every check.",
        .fields =
            {
                {.name = "required",
                 .type = FieldType::StringList,
                 .default_value = nlohmann::json::array({"tdx", "kernel", "gpu", "attest"}),
                 .help = "Checks that must pass: ids (tdx.device) or groups (tdx, kernel, gpu, "
                         "attest)."},
                {.name = "gpu_mode",
                 .type = FieldType::Enum,
                 .default_value = "cc",
                 .help = "none (no GPU checks), cc (each GPU in CC mode) or ppcie (Protected PCIe, "
                         "8 GPUs + NVSwitches).",
                 .choices = {"none", "cc", "ppcie"}},
                {.name = "gpus",
                 .type = FieldType::Int,
                 .default_value = 0,
                 .help = "Expected GPU count; 0: at least one (8 for ppcie)."},
                {.name = "switches",
                 .type = FieldType::Int,
                 .default_value = 0,
                 .help = "Expected NVSwitch count; 0: any (4 for ppcie)."},
                {.name = "set_ready_state",
                 .type = FieldType::Bool,
                 .default_value = false,
                 .help = "cc mode: set the GPU ready state once every other required check passed "
                         "(PPCIe: the verifier does)."},
                {.name = "persistenced_timeout",
                 .type = FieldType::Duration,
                 .default_value = "10m",
                 .help = "How long to wait for nvidia-persistenced (8 GPUs take about 5 minutes)."},
                {.name = "attestation_timeout",
                 .type = FieldType::Duration,
                 .default_value = "5m",
                 .help = "Limit for each attestation tool."},
                {.name = "tdx_attest",
                 .type = FieldType::Path,
                 .default_value = tools.tdx_attest,
                 .help = "The quote generator."},
                {.name = "quote_verify",
                 .type = FieldType::Path,
                 .default_value = tools.quote_verify,
                 .help = "DCAP QuoteVerificationSample's app."},
                {.name = "ppcie_python",
                 .type = FieldType::Path,
                 .default_value = tools.ppcie_python,
                 .help = "Python of the nvtrust venv: the PPCIe verifier (ppcie) or the local GPU "
                         "verifier (cc)."},
            },
        .example = "guest_check:\n  gpu_mode: ppcie\n  required: [tdx, kernel, gpu, attest]\n",
        .check =
            [](const recipe::Step& s, const recipe::Recipe&, const FieldLoc& loc,
               recipe::Diagnostics& d) {
                for (const auto& entry : texts(s.spec, "required"))
                    if (auto err = check::required_entry_error(entry); !err.empty())
                        d.error(loc("required"), err, "check ids are listed in docs/check.md");
                if (flag(s.spec, "set_ready_state") && text(s.spec, "gpu_mode") != "cc")
                    d.error(loc("set_ready_state"), "set_ready_state applies to gpu_mode cc only",
                            "in PPCIe mode the verifier sets the ready state after attestation");
            },
        .describe = describe_guest_check,
        .apply = apply_guest_check,
    };
    return kind;
}

} // namespace ccbake::steps
