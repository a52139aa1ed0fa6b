// deb_install: install .deb artifacts with dpkg, then let apt resolve their dependencies.
// The package name and version inside each .deb must be what the recipe says.
#include "archive/deb.h"
#include "steps/install_support.h"
#include "steps/kinds.h"
#include "util/error.h"
#include "util/strings.h"

#include <fmt/format.h>

namespace ccbake::steps {

using recipe::FieldType;

namespace {

StepResult apply_deb_install(StepContext& ctx, const recipe::Step& s) {
    struct Deb {
        std::string artifact, package, version;
    };
    std::vector<Deb> debs;
    for (const auto& d : s.spec["debs"])
        debs.push_back({text(d, "artifact"), text(d, "package"), text(d, "version")});
    // Every .deb is checked before anything is installed.
    for (const auto& d : debs) {
        auto fields = archive::deb_control(ctx.artifact(d.artifact));
        if (fields["Package"] != d.package || fields["Version"] != d.version)
            throw Error(fmt::format("{} holds {} {}, but the recipe expects {} {}", d.artifact,
                                    fields["Package"], fields["Version"], d.package, d.version),
                        "use the .deb that matches the recipe (fabric manager and NSCQ must carry "
                        "the driver's "
                        "version), or correct 'package'/'version'");
    }
    const auto before = install::installed_packages(ctx);
    std::vector<Deb> todo;
    for (const auto& d : debs) {
        auto it = before.find(d.package);
        if (it == before.end() || it->second != d.version) todo.push_back(d);
    }
    if (todo.empty()) return {};

    install::Staging staging(ctx);
    std::vector<std::string> argv = {"dpkg", "--force-confdef", "--force-confold", "-i"};
    for (const auto& d : todo)
        argv.push_back(staging.copy_artifact(d.artifact, d.package + "_" + d.version + ".deb"));
    ctx.progress("dpkg -i " + util::join(argv, " "));
    util::RunOptions o;
    o.log = ctx.log;
    o.timeout = std::chrono::seconds(1800);
    if (ctx.target.run(argv, o).exit_code != 0) {
        // Usually missing dependencies: apt resolves them (from the network) or removes the
        // package.
        install::NetworkWhile network(ctx.target, true);
        install::refresh_apt_lists(ctx);
        install::apt_get(ctx, {"-f", "install"},
                         "apt-get -f install could not resolve the .debs' dependencies");
    }
    const auto after = install::installed_packages(ctx);
    for (const auto& d : todo) {
        auto it = after.find(d.package);
        if (it == after.end() || it->second != d.version)
            throw Error(
                fmt::format("{} {} is not installed after dpkg -i and apt-get -f install",
                            d.package, d.version),
                fmt::format("see the step log {} for what dpkg and apt said", ctx.log.string()));
    }
    return {install::package_changes(before, after)};
}

} // namespace

const StepKind& deb_install_kind() {
    static const StepKind kind{
        .name = "deb_install",
        .summary = "Install local .deb artifacts, checking their package name and version.",
        .details = "Each .deb's control fields must match `package` and `version`, otherwise "
                   "nothing is installed. Fabric manager and NSCQ must carry the driver's version "
                   "exactly (a mismatch breaks NVSwitch attestation): when the recipe has an "
                   "`nvidia_driver` step, their versions are checked against its `version`.",
        .fields =
            {
                {.name = "debs",
                 .type = FieldType::ObjectList,
                 .required = true,
                 .help = "The packages to install.",
                 .fields =
                     {
                         {.name = "artifact",
                          .type = FieldType::Artifact,
                          .required = true,
                          .help = "The .deb file."},
                         {.name = "package", .required = true, .help = "Expected Package: field."},
                         {.name = "version", .required = true, .help = "Expected Version: field."},
                     }},
            },
        .example = "deb_install:\n  debs:\n    - artifact: fabricmanager_deb\n"
                   "      package: nvidia-fabricmanager-570\n      version: 570.195.03-1\n",
        .check =
            [](const recipe::Step& s, const recipe::Recipe& r, const FieldLoc& loc,
               recipe::Diagnostics& d) {
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
                                fmt::format("{} version {} does not match the driver version {}",
                                            pkg, ver, driver),
                                "fabric manager and NSCQ must equal the driver version, or "
                                "NVSwitch attestation fails");
                }
            },
        .describe =
            [](const recipe::Step& s, const recipe::Recipe&) {
                std::vector<std::string> out;
                for (const auto& deb : s.spec.value("debs", nlohmann::json::array()))
                    out.push_back(fmt::format("dpkg -i {} (expect {} {})", text(deb, "artifact"),
                                              text(deb, "package"), text(deb, "version")));
                return out;
            },
        .apply = apply_deb_install,
    };
    return kind;
}

} // namespace ccbake::steps
