#pragma once
// Checks on the baked root before anything is published: grub.cfg names no loop device (the
// image would not boot elsewhere) and, for a disk, finds its root by a name the disk has
// (root=UUID=, PARTUUID= or LABEL=), /etc/machine-id is empty (clones must not share one), no
// ssh host key is left unless cloud-init is there to replace it at first boot, and no helper
// of ccbake's is left (policy-rc.d, stashed files, mounts). Throws Error listing
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
// The ssh host keys in the root (/etc/ssh/ssh_host_*_key and .pub), sorted.
std::vector<std::string> ssh_host_keys(const std::filesystem::path& root);
// Whether the image makes its own host keys at first boot: cloud-init's ssh module deletes any
// it finds and generates new ones on an instance's first boot (ssh_deletekeys, on by default).
bool regenerates_ssh_host_keys(const std::filesystem::path& root);

void run_post_checks(const std::filesystem::path& root, const recipe::Recipe& r,
                     const PostCheckOptions& options);

} // namespace ccbake::bake
