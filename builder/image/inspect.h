#pragma once
// What a root file system is: its os-release identity and the kernels it carries, with the
// version comparison preflight uses ("6.8.0-45-generic" >= "6.6.0"). Reads files only.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ccbake::image {

struct OsRelease {
    std::string id, version_id, pretty_name;
};

// Parses ROOT/etc/os-release (or ROOT/usr/lib/os-release), resolving a symlink inside ROOT.
std::optional<OsRelease> read_os_release(const std::filesystem::path& root);
OsRelease parse_os_release(const std::string& text);

// Kernel releases found in ROOT/boot/vmlinuz-* and ROOT/lib/modules/*, sorted, unique.
std::vector<std::string> installed_kernels(const std::filesystem::path& root);

// Compares two kernel versions by their leading numbers (dotted version, then the ABI
// number after a dash): <0, 0, >0.
int compare_kernel_versions(const std::string& a, const std::string& b);
// The newest kernel >= minimum, if any.
std::optional<std::string> newest_kernel_at_least(const std::vector<std::string>& kernels,
                                                  const std::string& minimum);

} // namespace ccbake::image
