#pragma once
// The contract of a step kind. Each kind lives in one file under steps/ and declares its
// schema once (fields, types, defaults, help); the recipe validator, `plan`, the docs and the
// renderer read that schema. `check` adds rules one field's type cannot express, `describe`
// gives the lines `plan` shows (including derived values), and `apply` performs the step in a
// target root: it must be idempotent and report what it changed. A kind is defined with
// designated initialisers (.name = ..., .fields = ..., .check = ...), as its field rows are.
#include "recipe/diagnostics.h"
#include "recipe/recipe.h"
#include "recipe/schema.h"

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ccbake::steps {

struct StepContext; // the target being baked (steps/context.h)

struct StepResult {
    std::vector<std::string> changes; // one line per thing changed; empty: nothing to do
};

// Locates a field of the step in the recipe's text, for diagnostics.
using FieldLoc = recipe::FieldLoc;
// Cross-field checks the field types cannot express.
using CheckFn = recipe::CheckFn;
using DescribeFn =
    std::function<std::vector<std::string>(const recipe::Step&, const recipe::Recipe&)>;
using ApplyFn = std::function<StepResult(StepContext&, const recipe::Step&)>;

struct StepKind {
    std::string name;    // the YAML key, e.g. "apt_repo"
    std::string summary; // one line for --help, plan and docs
    std::string details; // a paragraph for docs
    std::vector<recipe::Field> fields;
    std::string example; // YAML of one step, shown in docs and checked by tests
    CheckFn check;
    DescribeFn describe;
    ApplyFn apply;
};

// Field access on a checked spec. A field the schema gives a default is in every checked spec,
// so code reads it without a fallback of its own: the default is stated once, in the table.
// text/texts: a missing or non-string field (one without a default) reads as empty.
inline bool flag(const nlohmann::json& spec, const char* key) {
    return spec.at(key).get<bool>();
}
inline std::string text(const nlohmann::json& spec, const char* key) {
    return spec.contains(key) && spec[key].is_string() ? spec[key].get<std::string>()
                                                       : std::string();
}
inline std::vector<std::string> texts(const nlohmann::json& spec, const char* key) {
    std::vector<std::string> out;
    if (spec.contains(key) && spec[key].is_array())
        for (const auto& v : spec[key])
            if (v.is_string()) out.push_back(v.get<std::string>());
    return out;
}

// Stacking: the recipe's steps of `s`'s kind, in recipe order, and `s`'s place among them. A
// step that is not in the recipe (a unit test's own) stands alone.
struct SameKind {
    std::vector<const recipe::Step*> steps;
    size_t index = 0; // steps[index] is `s`
};
SameKind same_kind_steps(const recipe::Recipe& r, const recipe::Step& s);

// Kinds whose later step would replace what an earlier one wrote (one file, one unit): reports
// at `s` an earlier step of its kind that writes the same `what` (the value of `key(step)`;
// empty keys never clash), naming both steps. `field` locates the error.
void refuse_same_target(const recipe::Recipe& r, const recipe::Step& s, const FieldLoc& loc,
                        const std::string& field, recipe::Diagnostics& d,
                        const std::function<std::vector<std::string>(const recipe::Step&)>& key);

// All step kinds, in the order the docs list them.
const std::vector<const StepKind*>& all_kinds();
const StepKind* find_kind(const std::string& name);
// What the recipe loader validates steps against: every kind's fields and check, in the
// order of all_kinds(). Pass it to recipe::load_recipe.
const recipe::StepSchemas& schemas();

} // namespace ccbake::steps
