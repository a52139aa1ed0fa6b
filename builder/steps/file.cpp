// file: a plain file in the image, from inline content or an artifact, with mode and owner.
#include "steps/context.h"
#include "steps/kinds.h"
#include "target/files.h"
#include "util/strings.h"

#include <fmt/format.h>

namespace ccbake::steps {

using recipe::FieldType;

namespace {

StepResult apply_file(StepContext& ctx, const recipe::Step& s) {
    const std::string path = text(s.spec, "path");
    target::WantedFile w;
    if (s.spec.contains("artifact"))
        w.source = ctx.artifact(text(s.spec, "artifact"));
    else
        w.content = text(s.spec, "content");
    w.mode = target::parse_mode(text(s.spec, "mode"));
    w.owner = target::resolve_owner(ctx.target.root(), text(s.spec, "owner"));
    return {target::ensure_file(ctx.target.root(), path, w)};
}

} // namespace

const StepKind& file_kind() {
    static const StepKind kind{
        .name = "file",
        .summary = "Write a file into the image (inline content or an artifact).",
        .details = "Exactly one of `content` and `artifact`. The file is written atomically with "
                   "`mode` and `owner`; parent directories are created. Rewriting identical "
                   "content changes nothing.",
        .fields =
            {
                {.name = "path",
                 .type = FieldType::Path,
                 .required = true,
                 .help = "Destination in the image."},
                {.name = "content", .help = "The file's text."},
                {.name = "artifact",
                 .type = FieldType::Artifact,
                 .help = "Copy this artifact instead."},
                {.name = "mode", .default_value = "0644", .help = "Octal permission bits."},
                {.name = "owner",
                 .default_value = "root:root",
                 .help = "USER:GROUP, resolved in the image."},
            },
        .example = "file:\n  path: /etc/motd\n  content: \"Confidential GPU image\\n\"\n",
        .check =
            [](const recipe::Step& s, const recipe::Recipe& r, const FieldLoc& loc,
               recipe::Diagnostics& d) {
                refuse_same_target(r, s, loc, "path", d, [](const recipe::Step& t) {
                    return std::vector<std::string>{text(t.spec, "path")};
                });
                if (s.spec.contains("content") == s.spec.contains("artifact"))
                    d.error(loc("path"),
                            "a file step needs exactly one of 'content' and 'artifact'");
                std::string mode = text(s.spec, "mode");
                if (mode.size() < 3 || mode.size() > 4 ||
                    mode.find_first_not_of("01234567") != std::string::npos)
                    d.error(loc("mode"), fmt::format("'{}' is not an octal mode", mode),
                            "e.g. \"0644\" (quote it)");
                if (util::split(text(s.spec, "owner"), ':').size() != 2)
                    d.error(loc("owner"), "'owner' is USER:GROUP, e.g. root:root");
            },
        .describe =
            [](const recipe::Step& s, const recipe::Recipe&) {
                return std::vector<std::string>{fmt::format(
                    "{} ({} {}) from {}", text(s.spec, "path"), text(s.spec, "mode"),
                    text(s.spec, "owner"),
                    s.spec.contains("artifact")
                        ? "artifact " + text(s.spec, "artifact")
                        : fmt::format("{} bytes of content", text(s.spec, "content").size()))};
            },
        .apply = apply_file,
    };
    return kind;
}

} // namespace ccbake::steps
