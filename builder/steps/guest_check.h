#pragma once
// What the guest_check step bakes: the checker's configuration derived from the step and the
// recipe (min_kernel, the kernel_cmdline step's swiotlb), and the systemd unit that runs it.
#include "check/config.h"
#include "recipe/recipe.h"

#include <string>

namespace ccbake::steps {

inline constexpr const char* kCheckBinary = "/usr/lib/ccbake/ccbake-check";
inline constexpr const char* kCheckConfig = "/etc/ccbake/check.json";
inline constexpr const char* kCheckReport = "/var/lib/ccbake/check.json";
inline constexpr const char* kCheckUnit = "ccbake-check.service";

check::Config guest_check_config(const recipe::Step& step, const recipe::Recipe& recipe);
std::string guest_check_unit(const check::Config& config);

} // namespace ccbake::steps
