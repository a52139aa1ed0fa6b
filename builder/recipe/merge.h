#pragma once
// Reads a recipe file and everything it includes into one tree. Later includes override
// earlier ones, the including file wins; mappings merge key by key, `steps` concatenate and
// a step whose `name` matches an earlier step replaces it in place. Cycles are diagnosed.
#include "recipe/node.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ccbake::recipe {

// `files` receives every file read, root first.
std::optional<Node> load_merged(const std::filesystem::path& path, std::vector<std::string>& files,
                                Diagnostics& diags);

// The `name` a step item declares, or "" (item: {KIND: {name: ...}}).
std::string declared_step_name(const Node& item);

} // namespace ccbake::recipe
