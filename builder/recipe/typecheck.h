#pragma once
// Turns a YAML node into typed JSON according to a schema table (recipe/schema.h):
// unknown keys ("did you mean"), missing required keys, wrong types, bad digests, URLs,
// sizes, durations and versions are all diagnosed; defaults are filled in.
#include "recipe/node.h"
#include "recipe/recipe.h"
#include "recipe/schema.h"

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ccbake::recipe {

struct ArtifactRef {
    std::string name;
    Location where;
};

struct TypeChecker {
    Diagnostics& diags;
    std::vector<ArtifactRef> artifact_refs; // every Artifact-typed value seen

    // `what` names the mapping in messages, e.g. "step 'apt_repo'".
    nlohmann::json check_map(const Node& n, const std::vector<Field>& fields,
                             const std::string& what);
    nlohmann::json check_value(const Node& n, const Field& f, const std::string& what);
};

// One step's fields (`body`: a mapping, or null for none) checked against its kind's schema:
// the fields every step accepts, then the kind's own. The Step has its kind, where, spec
// (defaults filled in) and artifacts; naming it and hashing it are the loader's.
Step check_step(TypeChecker& tc, const StepSchema& kind, const Node& body, const Location& where);

// Version "6.8.0-45-generic" -> {6, 8, 0}; empty on failure.
std::vector<int> parse_version(const std::string& text);
// "10m" -> 600; -1 on failure.
long long parse_duration(const std::string& text);

} // namespace ccbake::recipe
