// run: the generic extension point — one argv in the image's chroot, never a shell string.
#include "steps/context.h"
#include "steps/kinds.h"
#include "target/files.h"
#include "util/error.h"
#include "util/strings.h"

#include <fmt/format.h>

namespace ccbake::steps {

using recipe::FieldType;

namespace {

bool exists_in_image(const StepContext& ctx, const std::string& inside) {
    return target::lstat_in_root(ctx.target.root(), inside).has_value();
}

// Gives the target the host's DNS only while the command runs, whatever happens.
class NetworkWhile {
  public:
    NetworkWhile(Target& t, bool on) : target_(t), on_(on) {
        if (on_) target_.set_network(true);
    }
    ~NetworkWhile() {
        if (on_) target_.set_network(false);
    }
    NetworkWhile(const NetworkWhile&) = delete;
    NetworkWhile& operator=(const NetworkWhile&) = delete;

  private:
    Target& target_;
    bool on_;
};

StepResult apply_run(StepContext& ctx, const recipe::Step& s) {
    const auto argv = texts(s.spec, "argv");
    const std::string creates = text(s.spec, "creates");
    if (!creates.empty() && exists_in_image(ctx, creates)) return {};
    util::RunOptions options;
    for (const auto& [k, v] : s.spec["env"].items())
        options.env[k] = v.get<std::string>();
    options.cwd = text(s.spec, "cwd");
    ctx.progress(util::join(argv, " "));
    {
        NetworkWhile network(ctx.target, flag(s.spec, "network"));
        ctx.run_or_fail(argv, fmt::format("{} failed", argv.front()), options);
    }
    if (!creates.empty() && !exists_in_image(ctx, creates))
        throw Error(fmt::format("{} ran but did not create {}", argv.front(), creates),
                    "fix 'creates' to name a path the command makes, or drop it");
    return {{"ran " + util::join(argv, " ")}};
}

} // namespace

const StepKind& run_kind() {
    static const StepKind kind{
        .name = "run",
        .summary = "Run one command (an argv, no shell) inside the image.",
        .details = "The command runs in the chroot with a clean environment plus `env`. With "
                   "`creates`, it is skipped when that path exists and must create it. To use a "
                   "shell, say so explicitly: `argv: [/bin/sh, -c, ...]`.",
        .fields =
            {
                {.name = "argv",
                 .type = FieldType::StringList,
                 .required = true,
                 .help = "The program and its arguments."},
                {.name = "creates",
                 .type = FieldType::Path,
                 .help = "Path the command creates; present means done."},
                {.name = "cwd",
                 .type = FieldType::Path,
                 .default_value = "/",
                 .help = "Working directory."},
                {.name = "env",
                 .type = FieldType::StringMap,
                 .default_value = nlohmann::json::object(),
                 .help = "Extra environment."},
                {.name = "network",
                 .type = FieldType::Bool,
                 .default_value = false,
                 .help = "Give the command the host's DNS configuration."},
            },
        .example = "run:\n  argv: [update-initramfs, -u]\n",
        .check =
            [](const recipe::Step& s, const recipe::Recipe&, const FieldLoc& loc,
               recipe::Diagnostics& d) {
                if (texts(s.spec, "argv").empty())
                    d.error(loc("argv"), "'argv' is empty", "give the program to run");
                for (const auto& [k, v] : s.spec["env"].items())
                    if (k.empty() || k.find('=') != std::string::npos)
                        d.error(loc("env"),
                                fmt::format("'{}' is not an environment variable name", k));
            },
        .describe =
            [](const recipe::Step& s, const recipe::Recipe&) {
                std::vector<std::string> out = {"run: " + util::join(texts(s.spec, "argv"), " ")};
                if (s.spec.contains("creates"))
                    out.push_back("skipped when " + text(s.spec, "creates") + " exists");
                return out;
            },
        .apply = apply_run,
    };
    return kind;
}

} // namespace ccbake::steps
