#pragma once
// The Debian packages installed in a baked root, read from its dpkg database
// (/var/lib/dpkg/status, resolved inside the root): what the manifest lists and `ccbake diff`
// compares. Only packages in state "install ok installed" count.
#include <filesystem>
#include <string>
#include <vector>

namespace ccbake::bake {

struct DebPackage {
    std::string name, version, architecture;
    std::string source; // the source package, "" when it has the binary's name
};

// Sorted by name, then architecture; empty when the root has no dpkg database.
std::vector<DebPackage> installed_debs(const std::filesystem::path& root);

} // namespace ccbake::bake
