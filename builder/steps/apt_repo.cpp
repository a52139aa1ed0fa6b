// apt_repo: unpack a verified archive that holds an apt repository into the image (confined
// extraction), write its sources.list.d entry and refresh apt's lists.
#include "steps/install_support.h"
#include "steps/kinds.h"
#include "util/error.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <fstream>
#include <optional>

namespace ccbake::steps {

using recipe::Field;
using recipe::FieldType;

namespace {

// `deb [OPTIONS] file:DEST SUITE COMPONENTS`
std::string source_line(const recipe::Step& s) {
    std::vector<std::string> opts = texts(s.spec, "options");
    if (s.spec.contains("signed_by"))
        opts.push_back(
            fmt::format("signed-by={}/{}", text(s.spec, "dest"), text(s.spec, "signed_by")));
    return fmt::format("deb {}file:{} {} {}",
                       opts.empty() ? "" : "[" + util::join(opts, " ") + "] ", text(s.spec, "dest"),
                       text(s.spec, "suite"), util::join(texts(s.spec, "components"), " "));
}

StepResult apply_apt_repo(StepContext& ctx, const recipe::Step& s) {
    StepResult result;
    const std::string dest = text(s.spec, "dest"), artifact = text(s.spec, "artifact");
    const std::string list = "/etc/apt/sources.list.d/" + text(s.spec, "list") + ".list";
    // Folders this run creates, parents included, go again when it fails.
    const std::string new_dir = target::topmost_missing(ctx.target.root(), dest);
    bool extracted = false;
    try {
        extracted = install::extract_artifact(ctx, artifact, dest,
                                              s.spec.at("strip_components").get<unsigned>());
    } catch (...) {
        if (!new_dir.empty()) target::remove_tree(ctx.target.root(), new_dir);
        throw;
    }
    if (extracted) result.changes.push_back(fmt::format("extracted {} to {}", artifact, dest));
    // Undo what this run did when a later part fails, so the image is left as found.
    auto undo = [&](const std::optional<std::string>& old_list) {
        if (extracted) target::remove_tree(ctx.target.root(), new_dir.empty() ? dest : new_dir);
        if (old_list)
            target::write_if_changed(ctx.target.root(), list, *old_list);
        else
            target::remove_tree(ctx.target.root(), list);
    };
    try {
        if (s.spec.contains("signed_by") &&
            !target::exists(ctx.target.root(), dest + "/" + text(s.spec, "signed_by")))
            throw Error(
                fmt::format("the key {} is not in {}", text(s.spec, "signed_by"), dest),
                "'signed_by' names a key file inside the repository archive, relative to dest");
        if (!target::exists(ctx.target.root(), dest + "/dists/" + text(s.spec, "suite")))
            throw Error(
                fmt::format("{} holds no apt repository for suite '{}' ({}/dists/{} is missing)",
                            dest, text(s.spec, "suite"), dest, text(s.spec, "suite")),
                "check 'suite' and 'strip_components' against the archive's layout");
    } catch (...) {
        undo(std::nullopt);
        throw;
    }
    const std::optional<std::string> old_list = target::read_in_root(ctx.target.root(), list);
    const std::string line = source_line(s);
    if (target::write_if_changed(ctx.target.root(), list,
                                 fmt::format("# Written by ccbake (step {})\n{}\n", s.name, line)))
        result.changes.push_back(fmt::format("{}: {}", list, line));
    if (flag(s.spec, "update") && !result.changes.empty()) {
        // Only this source is refreshed: a local repository needs no network.
        try {
            install::Staging staging(ctx);
            auto args = install::only_sources(ctx, staging, list);
            args.push_back("update");
            install::apt_get(ctx, args, fmt::format("apt-get update of {} failed", list));
        } catch (...) {
            undo(old_list);
            throw;
        }
        result.changes.push_back("apt-get update (" + list + ")");
    }
    return result;
}

} // namespace

const StepKind& apt_repo_kind() {
    static const StepKind kind{
        .name = "apt_repo",
        .summary = "Unpack an apt repository archive into the image and add it as an apt source.",
        .details = "The archive is extracted confined to `dest` (absolute paths, `..`, writes "
                   "through symlinks and device nodes are refused) and only when `dest` does not "
                   "exist yet. The source line `deb [OPTIONS] file:DEST SUITE COMPONENTS` goes to "
                   "`/etc/apt/sources.list.d/LIST.list`, then `apt-get update` runs.",
        .fields =
            {
                {.name = "artifact",
                 .type = FieldType::Artifact,
                 .required = true,
                 .help = "The repository archive (.tgz, .tar.*)."},
                {.name = "dest",
                 .type = FieldType::Path,
                 .required = true,
                 .help = "Where the repository root lands in the image."},
                {.name = "strip_components",
                 .type = FieldType::Int,
                 .default_value = 1,
                 .help = "Leading path components removed from each archive entry (Intel's archive "
                         "has one top-level folder)."},
                {.name = "list",
                 .required = true,
                 .help = "Name of the sources.list.d file, without .list."},
                {.name = "suite",
                 .default_value = "jammy",
                 .help = "Suite (distribution) of the repository."},
                {.name = "components",
                 .type = FieldType::StringList,
                 .default_value = nlohmann::json::array({"main"}),
                 .help = "Components of the repository."},
                {.name = "options",
                 .type = FieldType::StringList,
                 .default_value = nlohmann::json::array(),
                 .help = "Options in the source line's brackets, e.g. [trusted=yes, arch=amd64]."},
                {.name = "signed_by",
                 .help = "Key file inside the archive (relative to dest); adds signed-by= instead "
                         "of trusting the repository blindly."},
                {.name = "update",
                 .type = FieldType::Bool,
                 .default_value = true,
                 .help = "Run apt-get update afterwards."},
            },
        .example = "apt_repo:\n  artifact: sgx_local_repo\n  dest: /srv/sgx_debian_local_repo\n"
                   "  list: sgx_debian_local_repo\n  options: [trusted=yes, arch=amd64]\n",
        .check =
            [](const recipe::Step& s, const recipe::Recipe& r, const FieldLoc& loc,
               recipe::Diagnostics& d) {
                refuse_same_target(r, s, loc, "list", d, [](const recipe::Step& t) {
                    return std::vector<std::string>{"/etc/apt/sources.list.d/" +
                                                    text(t.spec, "list") + ".list"};
                });
                const std::string list = s.spec.value("list", "");
                if (list.find('/') != std::string::npos || util::starts_with(list, "."))
                    d.error(loc("list"),
                            fmt::format("'list' must be a plain file name, not '{}'", list));
                if (s.spec.contains("signed_by"))
                    for (const auto& o : s.spec["options"])
                        if (util::starts_with(o.get<std::string>(), "trusted="))
                            d.error(loc("options"),
                                    "'trusted=' and 'signed_by' contradict each other",
                                    "keep signed_by and drop trusted=yes");
            },
        .describe =
            [](const recipe::Step& s, const recipe::Recipe&) {
                return std::vector<std::string>{
                    fmt::format("extract {} to {}", text(s.spec, "artifact"), text(s.spec, "dest")),
                    fmt::format("/etc/apt/sources.list.d/{}.list: {}", text(s.spec, "list"),
                                source_line(s)),
                };
            },
        .apply = apply_apt_repo,
    };
    return kind;
}

} // namespace ccbake::steps
