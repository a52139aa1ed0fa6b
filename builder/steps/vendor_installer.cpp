// vendor_installer: run a self-extracting installer (.bin) with arguments or standard-input
// answers, only while its marker file is absent.
#include "steps/install_support.h"
#include "steps/kinds.h"
#include "util/error.h"
#include "util/strings.h"

#include <fmt/format.h>

namespace ccbake::steps {

using recipe::FieldType;

namespace {

StepResult apply_vendor_installer(StepContext& ctx, const recipe::Step& s) {
    const std::string creates = text(s.spec, "creates"), artifact = text(s.spec, "artifact");
    if (target::exists(ctx.target.root(), creates)) return {};
    install::Staging staging(ctx);
    const auto* art = ctx.recipe.artifact(artifact);
    std::string file = staging.copy_artifact(artifact, art && !art->filename.empty() ? art->filename
                                                                                     : "installer");
    std::filesystem::permissions(target::resolve_in_root(ctx.target.root(), file),
                                 std::filesystem::perms::owner_all);
    std::vector<std::string> argv = {file};
    for (const auto& a : texts(s.spec, "args"))
        argv.push_back(a);
    util::RunOptions o;
    std::string answers;
    for (const auto& a : texts(s.spec, "answers"))
        answers += a + "\n";
    o.stdin_data = answers;
    for (const auto& [k, v] : s.spec["env"].items())
        o.env[k] = v.get<std::string>();
    o.cwd = staging.inside();
    o.timeout = std::chrono::seconds(3600);
    ctx.progress("running " + artifact);
    ctx.run_or_fail(argv, fmt::format("the installer {} failed", artifact), o);
    if (!target::exists(ctx.target.root(), creates))
        throw Error(
            fmt::format("the installer {} exited 0 but did not create {}", artifact, creates),
            "check 'args' and 'answers' (the installer may have installed elsewhere), or fix "
            "'creates'");
    std::vector<std::string> shown = {artifact};
    for (const auto& a : texts(s.spec, "args"))
        shown.push_back(a);
    if (!answers.empty())
        shown.push_back(fmt::format("({} answers on stdin)", texts(s.spec, "answers").size()));
    return {{fmt::format("ran {}: created {}", util::join(shown, " "), creates)}};
}

} // namespace

const StepKind& vendor_installer_kind() {
    static const StepKind kind{
        .name = "vendor_installer",
        .summary = "Run a self-extracting vendor installer once, non-interactively.",
        .details = "The installer runs in the image with `args`, and with `answers` fed to its "
                   "standard input one per line (the vendor's interactive answers). It is skipped "
                   "when `creates` exists, and must create it: an installer that exits 0 without "
                   "creating it is an error.",
        .fields =
            {
                {.name = "artifact",
                 .type = FieldType::Artifact,
                 .required = true,
                 .help = "The installer (.bin, .sh, .run)."},
                {.name = "args",
                 .type = FieldType::StringList,
                 .default_value = nlohmann::json::array(),
                 .help = "Arguments to the installer."},
                {.name = "answers",
                 .type = FieldType::StringList,
                 .default_value = nlohmann::json::array(),
                 .help = "Lines written to the installer's standard input."},
                {.name = "creates",
                 .type = FieldType::Path,
                 .required = true,
                 .help = "File the installer creates; present means done."},
                {.name = "env",
                 .type = FieldType::StringMap,
                 .default_value = nlohmann::json::object(),
                 .help = "Extra environment."},
            },
        .example = "vendor_installer:\n  artifact: sgx_sdk_bin\n  args: [--prefix=/opt/intel]\n"
                   "  creates: /opt/intel/sgxsdk/environment\n",
        .check =
            [](const recipe::Step& s, const recipe::Recipe&, const FieldLoc& loc,
               recipe::Diagnostics& d) {
                for (const auto& a : texts(s.spec, "answers"))
                    if (a.find('\n') != std::string::npos)
                        d.error(loc("answers"),
                                "each answer is one line; list several answers instead");
            },
        .describe =
            [](const recipe::Step& s, const recipe::Recipe&) {
                std::vector<std::string> out = {fmt::format(
                    "run {} {}", text(s.spec, "artifact"), util::join(texts(s.spec, "args"), " "))};
                auto answers = texts(s.spec, "answers");
                if (!answers.empty())
                    out.push_back("answers on stdin: " + util::join(answers, " | "));
                out.push_back("skipped when " + text(s.spec, "creates") + " exists");
                return out;
            },
        .apply = apply_vendor_installer,
    };
    return kind;
}

} // namespace ccbake::steps
