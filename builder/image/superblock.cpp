#include "image/superblock.h"

#include <cstring>
#include <fmt/format.h>
#include <vector>

namespace ccbake::image {

FsInfo identify_fs(const unsigned char* h, size_t size) {
    FsInfo fs;
    if (size >= 2048 && h[1024 + 56] == 0x53 && h[1024 + 57] == 0xEF) {
        const unsigned char* u = h + 1024 + 104;
        fs.type = "ext4";
        fs.uuid = fmt::format("{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:"
                              "02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
                              u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
                              u[11], u[12], u[13], u[14], u[15]);
        return fs;
    }
    if (size >= 512 && std::memcmp(h + 3, "NTFS    ", 8) == 0) {
        fs.type = "ntfs";
        return fs;
    }
    if (size >= 512 && h[510] == 0x55 && h[511] == 0xAA) {
        bool fat32 = std::memcmp(h + 82, "FAT32   ", 8) == 0;
        bool fat16 = std::memcmp(h + 54, "FAT1", 4) == 0;
        if (fat32 || fat16) {
            const unsigned char* s = h + (fat32 ? 67 : 39);
            fs.type = "vfat";
            fs.uuid = fmt::format("{:02X}{:02X}-{:02X}{:02X}", s[3], s[2], s[1], s[0]);
        }
    }
    return fs;
}

FsInfo identify_partition(const ReadAt& read, const Partition& p) {
    std::vector<unsigned char> head(4096);
    size_t got = read(p.offset, head.data(), head.size());
    return identify_fs(head.data(), got);
}

} // namespace ccbake::image
