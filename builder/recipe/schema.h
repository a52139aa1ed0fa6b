#pragma once
// The one table that describes the recipe language: each field's name, type, default and
// help. Parsing, validation, `plan`, `docs/recipe.md` and the cloud-init renderer all read
// these tables; nothing else lists the recipe's keys. Rows name their members (designated
// initialisers, in declaration order) and leave out those at their default, e.g.
// {.name = "path", .type = FieldType::Path, .required = true, .help = "..."}.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ccbake::recipe {

enum class FieldType {
    String, // any text
    Path,   // absolute path inside the image
    Bool,
    Int,      // non-negative whole number
    Size,     // "4GiB" -> bytes
    Duration, // "10m", "600s", "1h" -> seconds
    Enum,     // one of `choices`
    Url,      // http, https or file URL
    Md5,      // 32 hex digits
    Sha256,   // 64 hex digits
    Version,  // dotted version, e.g. 6.6.0
    Artifact, // name of an entry in `artifacts`
    StringList,
    ArgvList,   // a list of argv lists: [[make, clean], [make]]
    StringMap,  // name -> text
    Any,        // any scalar, list or mapping (JSON edits)
    Object,     // nested mapping with its own `fields`
    ObjectList, // list of nested mappings with their own `fields`
};

struct Field {
    std::string name;
    FieldType type = FieldType::String;
    bool required = false;
    nlohmann::json default_value; // null: no default (absent stays absent)
    std::string help;
    std::vector<std::string> choices; // Enum only
    std::vector<Field> fields;        // Object / ObjectList only
};

// Type as written in docs and diagnostics, e.g. "list of strings".
std::string type_name(const Field& f);

// The top-level keys of a recipe file (version 1).
const std::vector<Field>& top_level_fields();
// Fields every step accepts, whatever its kind.
const std::vector<Field>& common_step_fields();

} // namespace ccbake::recipe
