#pragma once
// The kernels a target root carries, in one place for preflight, the kernel
// and nvidia_driver steps and the modprobe step. A kernel release R is installed when the
// image has both halves of its package: /boot/vmlinuz-R (what grub boots) and the modules
// tree /lib/modules/R with modules in it (modules.order or kernel/, what module builds and
// depmod need). A /lib/modules/R that holds only a `build` link (headers) is not a kernel.
// Their order is util::compare_kernel_releases.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ccbake::target {

// The installed kernels (see above), newest first. Paths resolve inside `root`.
std::vector<std::string> installed_kernels(const std::filesystem::path& root);

// The installed kernels >= `minimum` (all when it is empty), newest first.
std::vector<std::string> kernels_at_least(const std::filesystem::path& root,
                                          const std::string& minimum);

} // namespace ccbake::target
