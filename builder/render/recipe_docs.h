#pragma once
// docs/recipe.md, generated from the schema tables so it cannot drift from the code.
#include <string>

namespace ccbake::render {

std::string recipe_reference_markdown();

} // namespace ccbake::render
