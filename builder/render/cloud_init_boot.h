#pragma once
// bake-at-boot: a recipe's steps translated into argv lists for the fixed first-boot helper
// (cloud-init/ccbake-firstboot.sh) and files that cloud-init stages for it. No shell text.
#include "recipe/recipe.h"

#include <string>
#include <vector>

namespace ccbake::render {

inline constexpr const char* kFirstbootHelper = "/usr/lib/ccbake/ccbake-firstboot";
inline constexpr const char* kFirstbootCache = "/var/cache/ccbake/firstboot";

struct StagedFile {
    std::string path; // where cloud-init's write_files puts it
    std::string content;
    std::string permissions = "0644";
};

struct BootCommands {
    std::vector<std::vector<std::string>> runcmd; // each an argv for the helper
    std::vector<StagedFile> files;
    std::vector<std::string> notes; // recipe-specific differences from the offline bake
};

// Throws UsageError naming every artifact that has neither sha256 nor md5.
BootCommands boot_commands(const recipe::Recipe& r);

// Arguments for `ccbake-firstboot check` derived from the recipe: where the quote generator,
// the quote verification sample and the PPCIe verifier's venv live in the image.
std::vector<std::string> check_arguments(const recipe::Recipe& r);

// Seconds to wait for nvidia-persistenced: the guest_check step's persistenced_timeout, else 900.
int persistenced_timeout(const recipe::Recipe& r);

} // namespace ccbake::render
