#pragma once
// Renders cloud-init NoCloud material from a resolved recipe: user-data (#cloud-config) that
// waits for nvidia-persistenced, runs the guest checks and records them under /var/lib/ccbake,
// and never reboots; in bake-at-boot mode it first runs the recipe's steps as commands.
#include "recipe/recipe.h"

#include <string>
#include <vector>

namespace ccbake::render {

enum class CloudInitMode { Check, BakeAtBoot };

struct CloudInitOptions {
    CloudInitMode mode = CloudInitMode::Check;
    int persistenced_timeout_s = 0; // 0: the recipe's guest_check value, else 900 (8 GPUs: ~5 min)
};

struct CloudInitFiles {
    std::string user_data; // starts with "#cloud-config"
    std::string meta_data; // instance-id changes with the recipe hash and the mode
};

// Throws UsageError when bake-at-boot cannot be rendered faithfully (an unpinned artifact).
CloudInitFiles render_cloud_init(const recipe::Recipe& r, const CloudInitOptions& options);

// What bake-at-boot cannot do that the offline bake does; printed in the user-data header
// and in docs/cloud-init.md.
const std::vector<std::string>& bake_at_boot_limits();

} // namespace ccbake::render
