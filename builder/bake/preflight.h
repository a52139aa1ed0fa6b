#pragma once
// Preflight of what is inside the target, before any step runs: the recipe's OS and version
// (/etc/os-release) and a kernel >= base.min_kernel unless a step installs one. Throws
// PreflightError (exit 3) with one line saying what is wrong and a hint.
#include "recipe/recipe.h"

#include <filesystem>
#include <string>

namespace ccbake::bake {

struct ContentFacts {
    std::string os;     // PRETTY_NAME, or ID VERSION_ID
    std::string kernel; // newest kernel >= min_kernel, "" when a step installs one
};

ContentFacts check_contents(const std::filesystem::path& root, const recipe::Recipe& r,
                            const std::string& what);
// True when a step of the recipe installs a kernel.
bool recipe_installs_kernel(const recipe::Recipe& r);
// After the steps: the kernel requirement must hold now (Error, exit 1, otherwise).
void check_kernel_after_steps(const std::filesystem::path& root, const recipe::Recipe& r);

} // namespace ccbake::bake
