// run: the generic extension point — one argv in the image's chroot, never a shell string.
#include <fmt/format.h>

#include "steps/kinds.h"
#include "util/strings.h"

namespace ccbake::steps {

using recipe::FieldType;

const StepKind& run_kind() {
    static const StepKind kind{
        "run",
        "Run one command (an argv, no shell) inside the image.",
        "The command runs in the chroot with a clean environment plus `env`. With `creates`, it is "
        "skipped when that path exists and must create it. To use a shell, say so explicitly: "
        "`argv: [/bin/sh, -c, ...]`.",
        {
            {"argv", FieldType::StringList, true, {}, "The program and its arguments."},
            {"creates", FieldType::Path, false, {}, "Path the command creates; present means done."},
            {"cwd", FieldType::Path, false, "/", "Working directory."},
            {"env", FieldType::StringMap, false, nlohmann::json::object(), "Extra environment."},
            {"network", FieldType::Bool, false, false, "Give the command the host's DNS configuration."},
        },
        "run:\n  argv: [update-initramfs, -u]\n",
        [](const recipe::Step& s, const recipe::Recipe&, const FieldLoc& loc, recipe::Diagnostics& d) {
            if (texts(s.spec, "argv").empty()) d.error(loc("argv"), "'argv' is empty", "give the program to run");
            for (const auto& [k, v] : s.spec["env"].items())
                if (k.empty() || k.find('=') != std::string::npos)
                    d.error(loc("env"), fmt::format("'{}' is not an environment variable name", k));
        },
        [](const recipe::Step& s, const recipe::Recipe&) {
            std::vector<std::string> out = {"run: " + util::join(texts(s.spec, "argv"), " ")};
            if (s.spec.contains("creates")) out.push_back("skipped when " + text(s.spec, "creates") + " exists");
            return out;
        },
        {},
    };
    return kind;
}

}  // namespace ccbake::steps
