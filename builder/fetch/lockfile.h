#pragma once
// RECIPE.lock: the sha256 and size of every artifact, pinned by `ccbake lock` so that a later
// download that differs is refused. JSON, one entry per artifact name; format in
// docs/artifacts.md. Reading a missing file gives an empty lock; a malformed one throws. The
// pins reach the rest of ccbake in one place: the recipe loader applies them (cli/app.h).
#include "recipe/recipe.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace ccbake::fetch {

struct LockEntry {
    std::string url; // the URL it was pinned for; a different URL makes the entry stale
    std::string sha256, md5;
    std::uint64_t size = 0;
};

struct LockFile {
    std::map<std::string, LockEntry> artifacts;

    // The entry for `a` when it was pinned for the same URL, else nullopt.
    std::optional<LockEntry> pin(const recipe::Artifact& a) const;
    // The entries as the recipe loader applies them (recipe::LoadOptions::pins).
    std::map<std::string, recipe::ArtifactPin> pins() const;
};

// RECIPE.lock beside the recipe file.
std::filesystem::path lock_path_for(const std::filesystem::path& recipe_file);
std::filesystem::path lock_path_for(const recipe::Recipe& r);
LockFile read_lock(const std::filesystem::path& path);
std::string render_lock(const LockFile& lock, const recipe::Recipe& r);
void write_lock(const std::filesystem::path& path, const LockFile& lock, const recipe::Recipe& r);

} // namespace ccbake::fetch
