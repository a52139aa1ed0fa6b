// ccbake plan RECIPE: the resolved recipe, its steps with content hashes, its artifacts.
#include "cli/app.h"
#include "fetch/fetch.h"
#include "plan/plan.h"

#include <iostream>

namespace ccbake::cli {

namespace {

void register_plan(CLI::App& app, Globals& g) {
    auto* cmd = app.add_subcommand(
        "plan", "Show the resolved steps, artifacts and derived values of a recipe");
    static std::string recipe_path;
    static std::vector<std::string> sets;
    cmd->add_option("RECIPE", recipe_path, "Recipe file")->required()->check(CLI::ExistingFile);
    add_set_option(*cmd, sets);
    cmd->callback([&g] {
        recipe::Recipe r = load_or_die(recipe_path, sets);
        auto probe = fetch::cache_probe(g.cache_dir());
        if (g.json)
            std::cout << plan::to_json(r, probe).dump(2) << "\n";
        else
            std::cout << plan::to_text(r, probe, g.verbose > 0);
        g.exit_code = 0;
    });
}

} // namespace

static const CommandRegistrar registered(20, register_plan);

} // namespace ccbake::cli
