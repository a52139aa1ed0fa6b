// ccbake docs recipe: print the recipe reference generated from the schema tables.
#include "cli/app.h"
#include "render/recipe_docs.h"

#include <iostream>

namespace ccbake::cli {

namespace {

void register_docs(CLI::App& app, Globals& g) {
    auto* cmd = app.add_subcommand("docs", "Print reference documentation generated from the code");
    auto* recipe_cmd =
        cmd->add_subcommand("recipe", "The recipe format and every step kind (docs/recipe.md)");
    cmd->require_subcommand(1);
    recipe_cmd->callback([&g] {
        std::cout << render::recipe_reference_markdown();
        g.exit_code = 0;
    });
}

} // namespace

static const CommandRegistrar registered(90, register_docs);

} // namespace ccbake::cli
