#pragma once
// A step for a unit test, built as the loader builds one: its spec goes through the kind's
// schema (recipe::check_step), so the fields are type-checked and the schema's defaults filled
// in, and a test states only the fields it cares about. A spec the loader would reject fails
// the test. The spec is given as JSON, which is YAML; sizes and durations may be numbers
// (bytes, seconds) or text ("4GiB", "10m").
#include "recipe/node.h"
#include "recipe/typecheck.h"
#include "steps/step.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <string>

namespace ccbake::testing {

inline recipe::Step schema_step(const std::string& kind, const nlohmann::json& spec,
                                const std::string& name = "") {
    const recipe::StepSchema* schema = steps::schemas().find(kind);
    REQUIRE_MESSAGE(schema, "no step kind ", kind);
    recipe::Diagnostics d;
    std::optional<recipe::Node> body = recipe::load_yaml_text(spec.dump(), kind, d);
    recipe::TypeChecker tc{d, {}};
    recipe::Step s = recipe::check_step(tc, *schema, body ? *body : recipe::Node{}, {});
    REQUIRE_MESSAGE(d.empty(), "the ", kind, " step of this test does not type-check:\n",
                    d.render());
    s.name = name.empty() ? kind + "-1" : name;
    return s;
}

} // namespace ccbake::testing
