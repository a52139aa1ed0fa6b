// python_venv: create a Python virtual environment in the image and pip-install packages
// from an unpacked source tree, from the network or offline from a wheelhouse artifact.
#include <fmt/format.h>

#include "steps/kinds.h"
#include "util/strings.h"

namespace ccbake::steps {

using recipe::FieldType;

const StepKind& python_venv_kind() {
    static const StepKind kind{
        "python_venv",
        "Create a Python venv and pip-install into it (e.g. NVIDIA's PPCIe verifier).",
        "The source tarball (optional) is unpacked confined to `extract_to`; `install` entries "
        "are pip requirement specifiers or paths relative to `extract_to`. With `wheelhouse` (an "
        "archive of wheels) pip runs with `--no-index --find-links`, so the bake needs no "
        "network; without it, pip reaches the network during the bake.",
        {
            {"venv", FieldType::Path, true, {}, "Where the virtual environment is created."},
            {"artifact", FieldType::Artifact, false, {}, "Source tarball to unpack first."},
            {"extract_to", FieldType::Path, false, {}, "Where the source is unpacked."},
            {"install", FieldType::StringList, true, {},
             "What pip installs: paths relative to extract_to (starting with ./) or specifiers."},
            {"wheelhouse", FieldType::Artifact, false, {}, "Archive of wheels for offline installs."},
            {"python", FieldType::String, false, "python3", "Interpreter that creates the venv."},
        },
        "python_venv:\n  artifact: nvtrust_source\n  extract_to: /opt/nvtrust/src\n"
        "  venv: /opt/nvtrust/venv\n  install: [./nvtrust-2025.7.17.001/guest_tools/ppcie-verifier]\n",
        [](const recipe::Step& s, const recipe::Recipe&, const FieldLoc& loc, recipe::Diagnostics& d) {
            if (s.spec.contains("artifact") != s.spec.contains("extract_to"))
                d.error(loc(s.spec.contains("artifact") ? "artifact" : "extract_to"),
                        "'artifact' and 'extract_to' go together");
            for (const auto& i : texts(s.spec, "install"))
                if (util::starts_with(i, "./") && !s.spec.contains("extract_to"))
                    d.error(loc("install"), fmt::format("'{}' is a path but nothing is unpacked", i));
                else if (util::starts_with(i, "/") || i.find("..") != std::string::npos)
                    d.error(loc("install"), fmt::format("'{}' must be relative to extract_to (./...)", i));
        },
        [](const recipe::Step& s, const recipe::Recipe&) {
            std::vector<std::string> out;
            if (s.spec.contains("artifact"))
                out.push_back(fmt::format("extract {} to {}", text(s.spec, "artifact"), text(s.spec, "extract_to")));
            out.push_back(fmt::format("{} -m venv {}", text(s.spec, "python"), text(s.spec, "venv")));
            out.push_back(fmt::format("pip install {}{}",
                                      s.spec.contains("wheelhouse")
                                          ? "--no-index --find-links <" + text(s.spec, "wheelhouse") + "> "
                                          : "(network) ",
                                      util::join(texts(s.spec, "install"), " ")));
            return out;
        },
        {},
    };
    return kind;
}

}  // namespace ccbake::steps
