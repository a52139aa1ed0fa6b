#include "recipe/schema.h"
#include "render/recipe_docs.h"
#include "steps/step.h"

#include <doctest/doctest.h>
#include <fstream>
#include <sstream>

TEST_CASE("docs/recipe.md is what the schema tables generate") {
    std::ifstream in(std::string(CCBAKE_SOURCE_DIR) + "/docs/recipe.md");
    REQUIRE(in);
    std::stringstream buf;
    buf << in.rdbuf();
    // On failure: ccbake docs recipe > docs/recipe.md
    CHECK_MESSAGE(
        buf.str() == ccbake::render::recipe_reference_markdown(),
        "docs/recipe.md is stale: regenerate it with `ccbake docs recipe > docs/recipe.md`");
}

TEST_CASE("every step kind and every field is documented with help") {
    for (const auto* kind : ccbake::steps::all_kinds()) {
        CHECK_MESSAGE(!kind->summary.empty(), kind->name);
        CHECK_MESSAGE(!kind->details.empty(), kind->name);
        CHECK_MESSAGE(!kind->example.empty(), kind->name);
        for (const auto& f : kind->fields)
            CHECK_MESSAGE(!f.help.empty(), (kind->name + "." + f.name));
    }
    for (const auto& f : ccbake::recipe::top_level_fields())
        CHECK_MESSAGE(!f.help.empty(), f.name);
}
