// vendor_installer: run a self-extracting installer (.bin) with arguments or standard-input
// answers, only while its marker file is absent.
#include <fmt/format.h>

#include "steps/kinds.h"
#include "util/strings.h"

namespace ccbake::steps {

using recipe::FieldType;

const StepKind& vendor_installer_kind() {
    static const StepKind kind{
        "vendor_installer",
        "Run a self-extracting vendor installer once, non-interactively.",
        "The installer runs in the image with `args`, and with `answers` fed to its standard "
        "input one per line (the vendor's interactive answers). It is skipped when `creates` "
        "exists, and must create it: an installer that exits 0 without creating it is an error.",
        {
            {"artifact", FieldType::Artifact, true, {}, "The installer (.bin, .sh, .run)."},
            {"args", FieldType::StringList, false, nlohmann::json::array(), "Arguments to the installer."},
            {"answers", FieldType::StringList, false, nlohmann::json::array(),
             "Lines written to the installer's standard input."},
            {"creates", FieldType::Path, true, {}, "File the installer creates; present means done."},
            {"env", FieldType::StringMap, false, nlohmann::json::object(), "Extra environment."},
        },
        "vendor_installer:\n  artifact: sgx_sdk_bin\n  args: [--prefix=/opt/intel]\n"
        "  creates: /opt/intel/sgxsdk/environment\n",
        [](const recipe::Step& s, const recipe::Recipe&, const FieldLoc& loc, recipe::Diagnostics& d) {
            for (const auto& a : texts(s.spec, "answers"))
                if (a.find('\n') != std::string::npos)
                    d.error(loc("answers"), "each answer is one line; list several answers instead");
        },
        [](const recipe::Step& s, const recipe::Recipe&) {
            std::vector<std::string> out = {fmt::format("run {} {}", text(s.spec, "artifact"),
                                                        util::join(texts(s.spec, "args"), " "))};
            auto answers = texts(s.spec, "answers");
            if (!answers.empty()) out.push_back("answers on stdin: " + util::join(answers, " | "));
            out.push_back("skipped when " + text(s.spec, "creates") + " exists");
            return out;
        },
        {},
    };
    return kind;
}

}  // namespace ccbake::steps
