#pragma once
// What `ccbake plan` shows: the resolved recipe as ordered steps with their content hashes,
// the artifacts and their verification state, and derived values (e.g. swiotlb slabs).
#include "recipe/recipe.h"

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace ccbake::plan {

// Says what the cache holds for an artifact ("cached", "not cached", ...); may be empty.
using CacheProbe = std::function<std::string(const recipe::Artifact&)>;

nlohmann::json to_json(const recipe::Recipe& r, const CacheProbe& probe = {});
// `detailed` (-v): digests and step hashes in full, mirrors, the variables after --set.
std::string to_text(const recipe::Recipe& r, const CacheProbe& probe = {}, bool detailed = false);

} // namespace ccbake::plan
