// apt_install: install packages with apt-get inside the image, optionally only from the
// local (file:) repositories the recipe added.
#include "steps/install_support.h"
#include "steps/kinds.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <regex>

namespace ccbake::steps {

using recipe::FieldType;

namespace {

// "name:arch=version" -> name, version ("" when not pinned).
std::pair<std::string, std::string> split_pin(const std::string& p) {
    auto eq = p.find('=');
    std::string name = p.substr(0, eq), version = eq == std::string::npos ? "" : p.substr(eq + 1);
    return {name.substr(0, name.find(':')), version};
}

StepResult apply_apt_install(StepContext& ctx, const recipe::Step& s) {
    const auto packages = texts(s.spec, "packages");
    const bool hermetic = flag(s.spec, "hermetic"), update = flag(s.spec, "update");
    const auto before = install::installed_packages(ctx);
    bool satisfied = true;
    for (const auto& p : packages) {
        auto [name, version] = split_pin(p);
        auto it = before.find(name);
        if (it == before.end() || (!version.empty() && it->second != version)) satisfied = false;
    }
    if (satisfied) return {};

    install::Staging staging(ctx);
    std::vector<std::string> sources;
    if (hermetic) sources = install::hermetic_apt_options(ctx, staging);
    install::NetworkWhile network(ctx.target, !hermetic);
    if (hermetic && update) {
        auto args = sources;
        args.push_back("update");
        install::apt_get(ctx, args, "apt-get update failed");
    } else if (!hermetic) {
        install::refresh_apt_lists(ctx, update);
    }
    auto args = sources;
    for (const char* a : {"-o", "APT::Install-Suggests=false", "install"})
        args.push_back(a);
    args.push_back(flag(s.spec, "recommends") ? "--install-recommends" : "--no-install-recommends");
    args.insert(args.end(), packages.begin(), packages.end());
    ctx.progress("apt-get install " + util::join(packages, " "));
    install::apt_get(ctx, args,
                     fmt::format("apt-get install {} failed", util::join(packages, " ")));
    return {install::package_changes(before, install::installed_packages(ctx))};
}

} // namespace

const StepKind& apt_install_kind() {
    static const StepKind kind{
        .name = "apt_install",
        .summary = "Install Debian packages with apt-get in the image.",
        .details = "Runs `apt-get install -y` with the packages listed. `NAME=VERSION` pins a "
                   "version (e.g. the cuBLAS pin of single-GPU images). A package apt does not "
                   "know is an error that names it. With `hermetic: true` only the image's local "
                   "`file:` repositories are consulted.",
        .fields =
            {
                {.name = "packages",
                 .type = FieldType::StringList,
                 .required = true,
                 .help = "Package names, optionally NAME=VERSION."},
                {.name = "recommends",
                 .type = FieldType::Bool,
                 .default_value = true,
                 .help = "Install recommended packages too."},
                {.name = "hermetic",
                 .type = FieldType::Bool,
                 .default_value = false,
                 .help = "Use only the local file: repositories in the image, never the network."},
                {.name = "update",
                 .type = FieldType::Bool,
                 .default_value = false,
                 .help = "Run apt-get update first even if an earlier step of this bake did. "
                         "Without it the image's lists are refreshed once per bake, before the "
                         "first step that installs from them."},
            },
        .example =
            "apt_install:\n  packages: [libtdx-attest, libtdx-attest-dev]\n  recommends: false\n",
        .check =
            [](const recipe::Step& s, const recipe::Recipe&, const FieldLoc& loc,
               recipe::Diagnostics& d) {
                static const std::regex name(
                    R"(^[a-z0-9][a-z0-9+.\-]+(:[a-z0-9]+)?(=[A-Za-z0-9.+~:\-]+)?$)");
                if (!s.spec.contains("packages")) return; // missing or mistyped: already reported
                auto packages = texts(s.spec, "packages");
                if (packages.empty()) d.error(loc("packages"), "'packages' lists no package");
                for (const auto& p : packages)
                    if (!std::regex_match(p, name))
                        d.error(loc("packages"),
                                fmt::format("'{}' is not a Debian package name", p),
                                "names are lower case letters, digits and + - . ; pin with "
                                "NAME=VERSION");
            },
        .describe =
            [](const recipe::Step& s, const recipe::Recipe&) {
                return std::vector<std::string>{
                    fmt::format("apt-get install{}{} {}",
                                flag(s.spec, "recommends") ? "" : " --no-install-recommends",
                                flag(s.spec, "hermetic") ? " (local repositories only)" : "",
                                util::join(texts(s.spec, "packages"), " "))};
            },
        .apply = apply_apt_install,
    };
    return kind;
}

} // namespace ccbake::steps
