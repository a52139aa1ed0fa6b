#pragma once
// A unit's ordering keys as systemd merges its files in an image: the first fragment on the unit
// search path, then NAME.d/*.conf drop-ins by file name (earlier directories shadow later ones,
// an empty assignment resets); keys misplaced under [Install] are reported, not applied.
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace ccbake::config {

struct MisplacedKey {
    std::string file; // absolute path inside the image
    int line = 0;
    std::string key; // Before, After, Requires or Wants
    std::string value;
};

struct UnitOrdering {
    std::string fragment;           // path inside the image; "" when the unit has no unit file
    bool masked = false;            // the fragment is a link to /dev/null
    std::vector<std::string> files; // fragment then drop-ins, in the order applied
    std::set<std::string> after, before, wants, requires_;
    std::vector<MisplacedKey> misplaced;
};

// Unit directories of the system manager, highest priority first.
const std::vector<std::string>& system_unit_paths();

UnitOrdering load_unit_ordering(const std::filesystem::path& root, const std::string& unit);

// Applies one unit file's text to `into` (exposed for tests); `file` names it in results.
void apply_unit_text(const std::string& text, const std::string& file, UnitOrdering& into);

} // namespace ccbake::config
