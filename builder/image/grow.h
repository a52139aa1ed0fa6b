#pragma once
// Grows a staged raw disk before the steps run: the file is extended (sparsely), the GPT's
// backup header moved to the new end, the root partition extended over the space after it
// (its start, GUIDs, type and name kept), and its ext4 file system checked and resized offline
// with e2fsprogs on a loop device. Only for the staged copy: the input is never touched.
// Throws ccbake::Error (or PreflightError when the layout cannot grow).
#include "image/probe.h"

#include <cstdint>
#include <filesystem>
#include <string>

namespace ccbake::image {

struct GrowResult {
    std::uint64_t old_size = 0, new_size = 0;           // the disk, bytes
    std::uint64_t old_root_size = 0, new_root_size = 0; // the root partition, bytes
    DiskLayout layout;                                  // read again after growing
};

// Why the disk cannot grow to `size` ("" when it can): smaller than now, or the root is not
// the last partition. `what` names the image in messages.
std::string growth_problem(const DiskLayout& layout, std::uint64_t disk_size, std::uint64_t size);

// Grows `disk` (a path child processes can open for `disk_fd`) to `size` bytes; a disk
// already that large is left as it is. `log` receives the tools' output.
GrowResult grow_disk(int disk_fd, const std::filesystem::path& disk, const DiskLayout& layout,
                     std::uint64_t size, const std::string& what, const std::filesystem::path& log);

} // namespace ccbake::image
