#pragma once
// Whether the steps still to apply fit in the image: each step kind's allowance (what it may
// write beyond its artifacts: packages, build trees, initramfs images) plus twice the sizes of
// the artifacts it uses (staged into the image, then installed or unpacked there). The table
// is documented in docs/bake.md and checked against it by a unit test.
#include "recipe/recipe.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ccbake::bake {

// Bytes a step of `kind` may add to the image besides its artifacts.
std::uint64_t kind_allowance(const std::string& kind);
// Bytes apt's lists of a stock cloud image take once refreshed (any apt-installing step).
inline constexpr std::uint64_t kAptListsAllowance = 256ull << 20;

struct SpaceEstimate {
    std::uint64_t bytes = 0;
    std::vector<std::string> lines; // "STEP (KIND): N MiB" for people
};

// A kernel step when the image already has a kernel that meets base.min_kernel: only its
// headers and their compiler may be missing.
inline constexpr std::uint64_t kKernelHeadersAllowance = 256ull << 20;

// The estimate for `steps` (those the journal does not show as applied); `kernel_present`:
// the image has a kernel >= base.min_kernel already.
SpaceEstimate estimate_space(const recipe::Recipe& r, const std::vector<const recipe::Step*>& steps,
                             bool kernel_present = false);

// Throws PreflightError (exit 3) when `free_bytes` is less than the estimate, naming the
// disk size to ask for (`disk_size` is the disk's size now, `what` the image).
void check_space(const SpaceEstimate& need, std::uint64_t free_bytes, std::uint64_t disk_size,
                 const std::string& what);

} // namespace ccbake::bake
