// deb_install: install .deb artifacts with dpkg, then let apt resolve their dependencies.
// The package name and version inside each .deb must be what the recipe says.
#include <fmt/format.h>

#include "steps/kinds.h"
#include "util/strings.h"

namespace ccbake::steps {

using recipe::FieldType;

const StepKind& deb_install_kind() {
    static const StepKind kind{
        "deb_install",
        "Install local .deb artifacts, checking their package name and version.",
        "Each .deb's control fields must match `package` and `version`, otherwise nothing is "
        "installed. Fabric manager and NSCQ must carry the driver's version exactly (a mismatch "
        "breaks NVSwitch attestation): when the recipe has an `nvidia_driver` step, their "
        "versions are checked against its `version`.",
        {
            {"debs", FieldType::ObjectList, true, {}, "The packages to install.", {},
             {
                 {"artifact", FieldType::Artifact, true, {}, "The .deb file."},
                 {"package", FieldType::String, true, {}, "Expected Package: field."},
                 {"version", FieldType::String, true, {}, "Expected Version: field."},
             }},
        },
        "deb_install:\n  debs:\n    - artifact: fabricmanager_deb\n"
        "      package: nvidia-fabricmanager-570\n      version: 570.195.03-1\n",
        [](const recipe::Step& s, const recipe::Recipe& r, const FieldLoc& loc, recipe::Diagnostics& d) {
            if (!s.spec.contains("debs")) return;
            if (s.spec["debs"].empty()) d.error(loc("debs"), "'debs' lists no package");
            std::string driver;
            for (const auto& other : r.steps)
                if (other.kind == "nvidia_driver") driver = text(other.spec, "version");
            if (driver.empty()) return;
            for (const auto& deb : s.spec["debs"]) {
                std::string pkg = text(deb, "package"), ver = text(deb, "version");
                bool tied = util::starts_with(pkg, "nvidia-fabricmanager") ||
                            util::starts_with(pkg, "libnvidia-nscq");
                if (tied && !util::starts_with(ver, driver + "-") && ver != driver)
                    d.error(loc("debs"),
                            fmt::format("{} version {} does not match the driver version {}", pkg, ver, driver),
                            "fabric manager and NSCQ must equal the driver version, or NVSwitch "
                            "attestation fails");
            }
        },
        [](const recipe::Step& s, const recipe::Recipe&) {
            std::vector<std::string> out;
            for (const auto& deb : s.spec.value("debs", nlohmann::json::array()))
                out.push_back(fmt::format("dpkg -i {} (expect {} {})", text(deb, "artifact"),
                                          text(deb, "package"), text(deb, "version")));
            return out;
        },
        {},
    };
    return kind;
}

}  // namespace ccbake::steps
