// source_build: unpack a verified source tarball into the image and run make in a
// subdirectory, with an environment file sourced through a fixed wrapper.
#include "steps/install_support.h"
#include "steps/kinds.h"
#include "util/error.h"
#include "util/strings.h"

#include <fmt/format.h>

namespace ccbake::steps {

using recipe::FieldType;

namespace {

// Fixed wrapper: sources the file named by $1, then runs the rest of its arguments. Recipe
// values only ever arrive as arguments, never as script text.
const char* kWithEnv = "set -e; f=\"$1\"; shift; . \"$f\"; exec \"$@\"";

std::vector<std::string> make_argv(const recipe::Step& s, const nlohmann::json& args,
                                   bool question) {
    std::vector<std::string> argv;
    if (s.spec.contains("env_file"))
        argv = {"/bin/sh", "-c", kWithEnv, "ccbake-with-env", text(s.spec, "env_file")};
    argv.push_back("make");
    if (question) argv.push_back("-q");
    for (const auto& a : args)
        argv.push_back(a.get<std::string>());
    return argv;
}

void build(StepContext& ctx, const recipe::Step& s, StepResult& result) {
    const std::string dir = text(s.spec, "dir"), creates = text(s.spec, "creates");
    if (!target::is_dir(ctx.target.root(), dir))
        throw Error(fmt::format("the build directory {} does not exist in the image", dir),
                    "check 'dir' (the package or archive that provides it must come first)");
    if (s.spec.contains("env_file") && !target::exists(ctx.target.root(), text(s.spec, "env_file")))
        throw Error(fmt::format("the environment file {} does not exist in the image",
                                text(s.spec, "env_file")),
                    "install what provides it first (e.g. the SGX SDK's vendor_installer step)");
    util::RunOptions o;
    for (const auto& [k, v] : s.spec["env"].items())
        o.env[k] = v.get<std::string>();
    o.cwd = dir;
    o.timeout = std::chrono::seconds(3600);
    if (creates.empty() && result.changes.empty()) {
        // Without `creates`, `make -q` tells whether anything is left to do (clean targets aside).
        bool up_to_date = true;
        for (const auto& args : s.spec["make"]) {
            bool clean = false;
            for (const auto& a : args)
                clean = clean || a.get<std::string>().find("clean") != std::string::npos;
            if (!clean && ctx.target.run(make_argv(s, args, true), o).exit_code != 0)
                up_to_date = false;
        }
        if (up_to_date) return;
    }
    o.log = ctx.log;
    for (const auto& args : s.spec["make"]) {
        auto argv = make_argv(s, args, false);
        std::vector<std::string> shown(argv.begin() + (s.spec.contains("env_file") ? 5 : 0),
                                       argv.end());
        ctx.progress(fmt::format("{} in {}", util::join(shown, " "), dir));
        ctx.run_or_fail(argv, fmt::format("`{}` failed in {}", util::join(shown, " "), dir), o);
        result.changes.push_back(fmt::format("ran {} in {}", util::join(shown, " "), dir));
    }
    if (!creates.empty() && !target::exists(ctx.target.root(), creates))
        throw Error(fmt::format("the build in {} finished but did not create {}", dir, creates),
                    "check the make targets and arguments, or fix 'creates'");
}

StepResult apply_source_build(StepContext& ctx, const recipe::Step& s) {
    StepResult result;
    const std::string creates = text(s.spec, "creates");
    if (!creates.empty() && target::exists(ctx.target.root(), creates)) return {};
    // Folders this run creates, parents included, go again when it fails.
    const std::string extract_to = text(s.spec, "extract_to");
    const std::string new_dir =
        s.spec.contains("artifact") ? target::topmost_missing(ctx.target.root(), extract_to) : "";
    bool extracted = false;
    try {
        extracted = s.spec.contains("artifact") &&
                    install::extract_artifact(ctx, text(s.spec, "artifact"), extract_to, 0);
    } catch (...) {
        if (!new_dir.empty()) target::remove_tree(ctx.target.root(), new_dir);
        throw;
    }
    if (extracted)
        result.changes.push_back(fmt::format("extracted {} to {}", text(s.spec, "artifact"),
                                             text(s.spec, "extract_to")));
    try {
        build(ctx, s, result);
    } catch (...) {
        // A tree unpacked by this run goes again, so the image is left as the step found it.
        if (extracted)
            target::remove_tree(ctx.target.root(), new_dir.empty() ? extract_to : new_dir);
        throw;
    }
    return result;
}

} // namespace

const StepKind& source_build_kind() {
    static const StepKind kind{
        .name = "source_build",
        .summary = "Build from source with make inside the image.",
        .details = "When `artifact` is set, the tarball is extracted (confined) to `extract_to` "
                   "first. Then each entry of `make` runs as `make ARGS...` in `dir`, with `env` "
                   "in the environment. `env_file` (e.g. the SGX SDK's environment) is sourced by "
                   "a fixed wrapper script that receives the file as an argument: no recipe text "
                   "is ever spliced into a shell. Note that DCAP's QuoteVerificationSample reads "
                   "`SGX_DEBUG`, not `DEBUG`.",
        .fields =
            {
                {.name = "artifact",
                 .type = FieldType::Artifact,
                 .help = "Source tarball to unpack first."},
                {.name = "extract_to",
                 .type = FieldType::Path,
                 .help = "Where the tarball is unpacked."},
                {.name = "dir",
                 .type = FieldType::Path,
                 .required = true,
                 .help = "Directory make runs in."},
                {.name = "make",
                 .type = FieldType::ArgvList,
                 .default_value = nlohmann::json::array({nlohmann::json::array()}),
                 .help = "make invocations, each an argument list; [] is plain `make`."},
                {.name = "env",
                 .type = FieldType::StringMap,
                 .default_value = nlohmann::json::object(),
                 .help = "Environment for make."},
                {.name = "env_file",
                 .type = FieldType::Path,
                 .help = "Shell environment file sourced before make."},
                {.name = "creates",
                 .type = FieldType::Path,
                 .help = "Build output; present means done."},
            },
        .example = "source_build:\n  artifact: dcap_source\n  extract_to: /opt/intel/dcap\n"
                   "  dir: "
                   "/opt/intel/dcap/confidential-computing.tee.dcap-DCAP_1.21/SampleCode/"
                   "QuoteVerificationSample\n"
                   "  make: [[clean], [SGX_DEBUG=1]]\n  env_file: /opt/intel/sgxsdk/environment\n",
        .check =
            [](const recipe::Step& s, const recipe::Recipe&, const FieldLoc& loc,
               recipe::Diagnostics& d) {
                bool has_artifact = s.spec.contains("artifact"),
                     has_dest = s.spec.contains("extract_to");
                if (has_artifact && !has_dest)
                    d.error(loc("artifact"), "'artifact' needs 'extract_to' (where to unpack it)");
                if (has_dest && !has_artifact)
                    d.error(loc("extract_to"),
                            "'extract_to' without 'artifact': nothing to unpack");
                if (has_artifact && has_dest &&
                    !util::starts_with(text(s.spec, "dir") + "/", text(s.spec, "extract_to") + "/"))
                    d.error(loc("dir"), "'dir' must be inside 'extract_to'");
                bool dcap_sample =
                    text(s.spec, "dir").find("QuoteVerificationSample") != std::string::npos;
                for (const auto& argv : s.spec.at("make"))
                    for (const auto& a : argv)
                        if (dcap_sample && a.get<std::string>() == "DEBUG=1")
                            d.error(
                                loc("make"), "DCAP's samples read SGX_DEBUG, not DEBUG",
                                "write SGX_DEBUG=1 (the vendor's DEBUG=1 builds a release binary)");
            },
        .describe =
            [](const recipe::Step& s, const recipe::Recipe&) {
                std::vector<std::string> out;
                if (s.spec.contains("artifact"))
                    out.push_back(fmt::format("extract {} to {}", text(s.spec, "artifact"),
                                              text(s.spec, "extract_to")));
                std::string env;
                for (const auto& [k, v] : s.spec["env"].items())
                    env += fmt::format("{}={} ", k, v.get<std::string>());
                for (const auto& argv : s.spec["make"]) {
                    std::vector<std::string> args;
                    for (const auto& a : argv)
                        args.push_back(a.get<std::string>());
                    out.push_back(fmt::format("in {}: {}{}make{}{}", text(s.spec, "dir"),
                                              s.spec.contains("env_file")
                                                  ? "(with " + text(s.spec, "env_file") + ") "
                                                  : "",
                                              env, args.empty() ? "" : " ", util::join(args, " ")));
                }
                return out;
            },
        .apply = apply_source_build,
    };
    return kind;
}

} // namespace ccbake::steps
