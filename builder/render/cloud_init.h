#pragma once
// Renders cloud-init NoCloud material from a resolved recipe: user-data (#cloud-config) that
// waits for nvidia-persistenced, runs the guest checks and records them under /var/lib/ccbake,
// and never reboots. The recipe's steps are not run at boot: only `ccbake bake` applies them
// (docs/cloud-init.md says why bake-at-boot was removed).
#include "recipe/recipe.h"

#include <string>
#include <vector>

namespace ccbake::render {

struct CloudInitOptions {
    int persistenced_timeout_s = 0; // 0: the recipe's guest_check value, else 900 (8 GPUs: ~5 min)
};

struct CloudInitFiles {
    std::string user_data; // starts with "#cloud-config"
    std::string meta_data; // instance-id changes with the recipe hash
};

CloudInitFiles render_cloud_init(const recipe::Recipe& r, const CloudInitOptions& options);

} // namespace ccbake::render
