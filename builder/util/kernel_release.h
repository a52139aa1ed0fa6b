#pragma once
// The order of kernel releases, the one used wherever ccbake compares kernels (preflight, the
// kernel and nvidia_driver steps, the in-guest checker).
#include <string>

namespace ccbake::util {

// Orders kernel releases by their leading numbers, the dotted version then the package's ABI
// number ("6.8.0-45-generic" > "6.8.0-40-generic" > "6.6.0"), missing numbers as 0; the
// flavour after them ("generic", "amd64") is not a number. <0, 0, >0.
int compare_kernel_releases(const std::string& a, const std::string& b);
// Whether `release` starts with a version number ("6.8.0-45-generic", "6.6"; not "linux").
bool is_kernel_release(const std::string& release);

} // namespace ccbake::util
