// apt_repo: unpack a verified archive that holds an apt repository into the image (confined
// extraction), write its sources.list.d entry and refresh apt's lists.
#include <fmt/format.h>

#include "steps/kinds.h"
#include "util/strings.h"

namespace ccbake::steps {

using recipe::Field;
using recipe::FieldType;

const StepKind& apt_repo_kind() {
    static const StepKind kind{
        "apt_repo",
        "Unpack an apt repository archive into the image and add it as an apt source.",
        "The archive is extracted confined to `dest` (absolute paths, `..`, writes through "
        "symlinks and device nodes are refused) and only when `dest` does not exist yet. The "
        "source line `deb [OPTIONS] file:DEST SUITE COMPONENTS` goes to "
        "`/etc/apt/sources.list.d/LIST.list`, then `apt-get update` runs.",
        {
            {"artifact", FieldType::Artifact, true, {}, "The repository archive (.tgz, .tar.*)."},
            {"dest", FieldType::Path, true, {}, "Where the repository root lands in the image."},
            {"strip_components", FieldType::Int, false, 1,
             "Leading path components removed from each archive entry (Intel's archive has one "
             "top-level folder)."},
            {"list", FieldType::String, true, {}, "Name of the sources.list.d file, without .list."},
            {"suite", FieldType::String, false, "jammy", "Suite (distribution) of the repository."},
            {"components", FieldType::StringList, false, nlohmann::json::array({"main"}),
             "Components of the repository."},
            {"options", FieldType::StringList, false, nlohmann::json::array(),
             "Options in the source line's brackets, e.g. [trusted=yes, arch=amd64]."},
            {"signed_by", FieldType::String, false, {},
             "Key file inside the archive (relative to dest); adds signed-by= instead of "
             "trusting the repository blindly."},
            {"update", FieldType::Bool, false, true, "Run apt-get update afterwards."},
        },
        "apt_repo:\n  artifact: sgx_local_repo\n  dest: /srv/sgx_debian_local_repo\n"
        "  list: sgx_debian_local_repo\n  options: [trusted=yes, arch=amd64]\n",
        [](const recipe::Step& s, const recipe::Recipe&, const FieldLoc& loc, recipe::Diagnostics& d) {
            const std::string list = s.spec.value("list", "");
            if (list.find('/') != std::string::npos || util::starts_with(list, "."))
                d.error(loc("list"), fmt::format("'list' must be a plain file name, not '{}'", list));
            if (s.spec.contains("signed_by"))
                for (const auto& o : s.spec["options"])
                    if (util::starts_with(o.get<std::string>(), "trusted="))
                        d.error(loc("options"), "'trusted=' and 'signed_by' contradict each other",
                                "keep signed_by and drop trusted=yes");
        },
        [](const recipe::Step& s, const recipe::Recipe&) {
            std::vector<std::string> opts;
            for (const auto& o : s.spec["options"]) opts.push_back(o.get<std::string>());
            if (s.spec.contains("signed_by"))
                opts.push_back(fmt::format("signed-by={}/{}", s.spec["dest"].get<std::string>(),
                                           s.spec["signed_by"].get<std::string>()));
            std::vector<std::string> comps;
            for (const auto& c : s.spec["components"]) comps.push_back(c.get<std::string>());
            return std::vector<std::string>{
                fmt::format("extract {} to {}", s.spec["artifact"].get<std::string>(),
                            s.spec["dest"].get<std::string>()),
                fmt::format("/etc/apt/sources.list.d/{}.list: deb {}file:{} {} {}",
                            s.spec["list"].get<std::string>(),
                            opts.empty() ? "" : "[" + util::join(opts, " ") + "] ",
                            s.spec["dest"].get<std::string>(), s.spec["suite"].get<std::string>(),
                            util::join(comps, " ")),
            };
        },
        {},
    };
    return kind;
}

}  // namespace ccbake::steps
