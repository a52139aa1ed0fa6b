#pragma once
// The kernel command line as text: swiotlb arithmetic, splitting and merging arguments, and
// what a generated grub.cfg must carry. Shared by the kernel_cmdline step and the post-checks.
#include <cstdint>
#include <string>
#include <vector>

namespace ccbake::config {

// swiotlb= counts 2 KiB slabs: MiB x 512 (4 GiB -> 2097152).
std::uint64_t swiotlb_slabs(std::uint64_t bytes);

// Splits a command line into arguments (whitespace separated; double quotes group).
std::vector<std::string> split_cmdline(const std::string& line);

// `existing` with every `remove` entry dropped (an entry "key" drops "key" and "key=..."),
// then each `add` entry applied: one with the same key replaces the old value in place,
// a new one is appended. Never duplicates an argument.
std::vector<std::string> merge_cmdline(const std::vector<std::string>& existing,
                                       const std::vector<std::string>& add,
                                       const std::vector<std::string>& remove);

// What is wrong with a generated grub.cfg, one line per problem (empty: nothing): every
// Linux entry must name its root by UUID and no loop device; every entry except recovery
// ones (which grub builds from GRUB_CMDLINE_LINUX only) must carry each of `required` and
// none of `removed` (a bare key matches key=...).
std::vector<std::string> grub_cfg_problems(const std::string& grub_cfg,
                                           const std::vector<std::string>& required,
                                           const std::vector<std::string>& removed);

} // namespace ccbake::config
