#pragma once
// The bake journal kept inside the image at /var/lib/ccbake/journal.json: the content hash
// of every step applied so far, in order. A re-bake skips the leading steps whose hashes
// match and re-applies everything from the first step that changed. Written atomically.
#include "recipe/recipe.h"

#include <filesystem>
#include <string>
#include <vector>

namespace ccbake::bake {

inline constexpr const char* kJournalPath = "/var/lib/ccbake/journal.json";

struct JournalEntry {
    std::string name, kind, hash;
    std::vector<std::string> changes; // what the step changed when it was applied
};

struct Journal {
    std::string recipe; // name of the recipe that wrote it
    std::vector<JournalEntry> steps;
};

// Reads ROOT/var/lib/ccbake/journal.json; a missing file is an empty journal, a damaged one
// an Error (the hint says how to start afresh).
Journal read_journal(const std::filesystem::path& root);
void write_journal(const std::filesystem::path& root, const Journal& journal);
// How many leading steps of `steps` the journal shows as applied with the same hash.
size_t applied_prefix(const Journal& journal, const std::vector<recipe::Step>& steps);

} // namespace ccbake::bake
