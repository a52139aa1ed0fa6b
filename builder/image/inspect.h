#pragma once
// What a root file system is: its os-release identity (the kernels it carries are
// target/kernels.h). Reads files only, resolved inside the root.
#include <filesystem>
#include <optional>
#include <string>

namespace ccbake::image {

struct OsRelease {
    std::string id, version_id, pretty_name;
};

// Parses ROOT/etc/os-release (or ROOT/usr/lib/os-release), resolving a symlink inside ROOT.
std::optional<OsRelease> read_os_release(const std::filesystem::path& root);
OsRelease parse_os_release(const std::string& text);

} // namespace ccbake::image
