#pragma once
// A resolved recipe: includes merged, variables substituted, every field type-checked
// and defaults filled in. This is what `plan`, `fetch` and `bake` work from. The recipe layer
// knows no step kind: the loader validates steps against the StepSchemas its caller passes
// (the step registry's, steps::schemas()).
#include "recipe/diagnostics.h"
#include "recipe/schema.h"

#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ccbake::recipe {

struct Base {
    std::string os = "ubuntu";
    std::string version = "22.04";
    std::string firmware = "uefi";
    std::string min_kernel = "6.6.0";
    std::uint64_t disk_size = 0; // bytes the baked disk grows to; 0: keep the input's size
};

struct Artifact {
    std::string name;
    std::string url;
    std::vector<std::string> mirrors;
    std::string md5;        // "" when the vendor publishes none
    std::string sha256;     // "" unless the recipe pins one (the lock file usually does)
    std::uint64_t size = 0; // 0 when unknown
    std::string filename;   // last part of the URL unless the recipe says otherwise
    Location where;

    std::vector<std::string> urls() const; // url, then mirrors
};

struct Step {
    std::string kind;
    std::string name;    // recipe's `name`, or KIND-N
    nlohmann::json spec; // typed fields with defaults filled in (sizes in bytes, durations in s)
    Location where;
    std::string hash; // sha256 of kind, spec and the digests of the artifacts it uses
    std::vector<std::string> artifacts; // names of the artifacts the step uses (its schema's
                                        // Artifact fields), in field order
};

struct Recipe {
    std::filesystem::path path;
    std::vector<std::string> files; // the recipe and every file it included
    std::string name;
    std::string description;
    Base base;
    std::map<std::string, std::string> variables; // after --set
    std::vector<Artifact> artifacts;
    std::vector<Step> steps;
    std::string hash; // sha256 over the resolved content

    const Artifact* artifact(const std::string& name) const;
};

// Locates a field of a step in the recipe's text, for diagnostics.
using FieldLoc = std::function<Location(const std::string&)>;
// Cross-field checks of a step kind that its fields' types cannot express.
using CheckFn = std::function<void(const Step&, const Recipe&, const FieldLoc&, Diagnostics&)>;

// What the loader validates the steps of one kind against.
struct StepSchema {
    std::string kind;          // the YAML key, e.g. "apt_repo"
    std::vector<Field> fields; // the kind's own; common_step_fields() come before them
    CheckFn check;             // may be empty; runs only on a step whose fields type-checked
};

// Every step kind a recipe may use, in the order an unknown kind's diagnostic lists them.
struct StepSchemas {
    std::vector<StepSchema> kinds;
    const StepSchema* find(const std::string& kind) const; // nullptr: no such kind
};

// A digest pinned for an artifact outside the recipe (RECIPE.lock, fetch/lockfile.h). It holds
// only while the artifact keeps the URL it was pinned for, and fills what the recipe leaves
// empty (a sha256 or size the recipe states wins).
struct ArtifactPin {
    std::string url, sha256;
    std::uint64_t size = 0;
};

struct LoadOptions {
    std::map<std::string, std::string> overrides; // --set name=value
    // Pins by artifact name, applied before the hashes are computed: `plan`, `fetch` and `bake`
    // see the same digests and the same step hashes.
    std::map<std::string, ArtifactPin> pins;
};

// Loads, merges, substitutes and validates, the steps against `kinds`. Every problem goes to
// `diags`; the returned recipe is only meaningful when `diags.empty()`.
Recipe load_recipe(const std::filesystem::path& path, const StepSchemas& kinds,
                   const LoadOptions& options, Diagnostics& diags);

} // namespace ccbake::recipe
