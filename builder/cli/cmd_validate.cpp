// ccbake validate RECIPE...: every problem of every recipe, then exit 2 if there was any.
#include "cli/app.h"
#include "steps/step.h"
#include "util/error.h"

#include <fmt/format.h>
#include <iostream>
#include <nlohmann/json.hpp>

namespace ccbake::cli {

namespace {

void register_validate(CLI::App& app, Globals& g) {
    auto* cmd = app.add_subcommand("validate", "Check recipes and report every problem at once");
    static std::vector<std::string> recipes, sets;
    cmd->add_option("RECIPE", recipes, "Recipe files")->required()->check(CLI::ExistingFile);
    add_set_option(*cmd, sets);
    cmd->callback([&g] {
        int failed = 0;
        nlohmann::json results = nlohmann::json::array();
        for (const auto& path : recipes) {
            recipe::Diagnostics diags;
            recipe::Recipe r =
                recipe::load_recipe(path, steps::schemas(), {parse_sets(sets)}, diags);
            if (!diags.empty()) {
                ++failed;
                std::cerr << diags.render();
                std::cerr << fmt::format("{}: {} error{}\n", path, diags.size(),
                                         diags.size() == 1 ? "" : "s");
            } else if (!g.json) {
                std::cout << fmt::format("{}: ok ({} steps, {} artifacts)\n", path, r.steps.size(),
                                         r.artifacts.size());
                if (g.verbose) // every file the recipe read: itself and its includes
                    for (const auto& f : r.files)
                        std::cout << fmt::format("  read {}\n", f);
            }
            nlohmann::json errors = nlohmann::json::array();
            for (const auto& d : diags.list())
                errors.push_back({{"file", d.where.file},
                                  {"line", d.where.line},
                                  {"column", d.where.column},
                                  {"message", d.message},
                                  {"note", d.note}});
            results.push_back({{"recipe", path}, {"ok", diags.empty()}, {"errors", errors}});
        }
        if (g.json) std::cout << results.dump(2) << "\n";
        g.exit_code = failed ? kExitUsage : kExitOk;
    });
}

} // namespace

static const CommandRegistrar registered(10, register_validate);

} // namespace ccbake::cli
