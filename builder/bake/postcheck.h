#pragma once
// Checks on the baked root before anything is published: grub.cfg names no loop device (the
// image would not boot elsewhere) and, for a disk, finds its root by a name the disk has
// (root=UUID=, PARTUUID= or LABEL=), /etc/machine-id is empty (clones must not share one), and
// no helper of ccbake's is left (policy-rc.d, stashed files, mounts). Throws Error listing
// every problem found.
#include "recipe/recipe.h"

#include <filesystem>
#include <string>
#include <vector>

namespace ccbake::bake {

struct PostCheckOptions {
    std::vector<std::filesystem::path>
        own_mounts; // mount points the engine itself keeps (root, ESP)
    // root= values that name this disk's root (UUID=, PARTUUID=, LABEL=); when set, a grub.cfg
    // entry whose root= is another UUID=, PARTUUID= or LABEL= is a problem.
    std::vector<std::string> root_names;
};

// Every problem found, one line each; empty when the root passes.
std::vector<std::string> post_check_problems(const std::filesystem::path& root,
                                             const recipe::Recipe& r,
                                             const PostCheckOptions& options);
void run_post_checks(const std::filesystem::path& root, const recipe::Recipe& r,
                     const PostCheckOptions& options);

} // namespace ccbake::bake
