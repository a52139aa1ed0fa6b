#pragma once
// Recognises the file system at the start of a partition from its superblock bytes: ext2/3/4
// (with its UUID), FAT (with its volume serial, which is what /dev/disk/by-uuid shows) and
// NTFS. Pure parsing, tested without devices.
#include "image/gpt.h"

#include <cstdint>
#include <string>

namespace ccbake::image {

struct FsInfo {
    std::string type;  // "ext4", "vfat", "ntfs" or ""
    std::string uuid;  // ext4: 8-4-4-4-12 lower case; vfat: XXXX-XXXX upper case
    std::string label; // ext4 volume name, vfat volume label (trailing blanks dropped)
    // ext4 only: the file system's size and its free space as the superblock counts them
    // (what root may use: reserved blocks included). 0 when unknown.
    std::uint64_t size_bytes = 0, free_bytes = 0;
};

// `head` holds at least the first 2048 bytes of the partition.
FsInfo identify_fs(const unsigned char* head, size_t size);
// Reads the partition's first bytes through `read` and identifies it.
FsInfo identify_partition(const ReadAt& read, const Partition& p);

} // namespace ccbake::image
