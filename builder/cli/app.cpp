#include "cli/app.h"

#include "fetch/lockfile.h"
#include "steps/step.h"
#include "util/error.h"
#include "version.h"

#include <algorithm>
#include <cstdlib>
#include <fmt/format.h>
#include <iostream>

namespace ccbake::cli {

std::filesystem::path Globals::cache_dir() const {
    if (!cache.empty()) return cache;
    if (const char* env = std::getenv("CCBAKE_CACHE"); env && *env) return env;
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
        return std::filesystem::path(xdg) / "ccbake";
    return "/var/cache/ccbake";
}

void add_set_option(CLI::App& cmd, std::vector<std::string>& sets) {
    cmd.add_option("--set", sets, "Override a recipe variable: NAME=VALUE (repeatable)")
        ->type_name("NAME=VALUE")
        ->take_all();
}

std::map<std::string, std::string> parse_sets(const std::vector<std::string>& sets) {
    std::map<std::string, std::string> out;
    for (const auto& s : sets) {
        auto eq = s.find('=');
        if (eq == std::string::npos || eq == 0)
            throw UsageError(fmt::format("--set '{}' is not NAME=VALUE", s),
                             "e.g. --set cublas_version=12.4.5.8-1");
        out[s.substr(0, eq)] = s.substr(eq + 1);
    }
    return out;
}

void print_artifact_paths(const std::map<std::string, fetch::Fetched>& fetched) {
    for (const auto& [name, f] : fetched)
        std::cout << fmt::format("{:<24} {}\n", name, f.path.string());
}

recipe::Recipe load_or_die(const std::string& path, const std::vector<std::string>& sets,
                           Pins pins) {
    recipe::Diagnostics diags;
    recipe::LoadOptions options{parse_sets(sets)};
    if (pins == Pins::FromLock) options.pins = fetch::read_lock(fetch::lock_path_for(path)).pins();
    recipe::Recipe r = recipe::load_recipe(path, steps::schemas(), options, diags);
    if (!diags.empty()) {
        std::cerr << diags.render();
        throw UsageError(fmt::format("{}: {} error{} in the recipe", path, diags.size(),
                                     diags.size() == 1 ? "" : "s"),
                         "fix them, then run `ccbake validate " + path + "`");
    }
    return r;
}

namespace {
std::vector<std::pair<int, RegisterFn>>& registry() {
    static std::vector<std::pair<int, RegisterFn>> commands;
    return commands;
}
} // namespace

CommandRegistrar::CommandRegistrar(int order, RegisterFn fn) {
    registry().emplace_back(order, fn);
}

void build_app(CLI::App& app, Globals& g) {
    app.description(
        "ccbake bakes Ubuntu 22.04 UEFI images for confidential GPU VMs (Intel TDX, NVIDIA\n"
        "Protected PCIe) from declarative YAML recipes, and proves what they contain.");
    app.set_version_flag("--version", std::string("ccbake ") + CCBAKE_VERSION);
    app.add_option("--cache", g.cache,
                   "Artifact cache (default $CCBAKE_CACHE, else $XDG_CACHE_HOME/ccbake, else "
                   "/var/cache/ccbake)")
        ->type_name("DIR");
    app.add_flag(
        "--json", g.json,
        "Machine-readable output: JSON results, and progress as JSON events, one per line");
    app.add_flag("-v,--verbose", g.verbose,
                 "More detail for people: each command a bake runs in the image, full digests, "
                 "paths (--json output stays the same)");
    app.fallthrough();
    app.require_subcommand(1);
    app.footer(
        "Exit codes: 0 success; 1 the work failed (a step, a download, a checksum);\n"
        "2 usage or recipe error; 3 the input image was rejected by preflight.\n"
        "Run `ccbake COMMAND --help` for a command's options. Recipe format: docs/recipe.md.");
    auto commands = registry();
    std::stable_sort(commands.begin(), commands.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [order, fn] : commands)
        fn(app, g);
}

} // namespace ccbake::cli
