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
        const unsigned char* sb = h + 1024;
        auto le32 = [&](size_t at) {
            return std::uint64_t(sb[at]) | std::uint64_t(sb[at + 1]) << 8 |
                   std::uint64_t(sb[at + 2]) << 16 | std::uint64_t(sb[at + 3]) << 24;
        };
        // s_blocks_count_lo (4), s_free_blocks_count_lo (12), s_log_block_size (24); with
        // INCOMPAT_64BIT (0x80 in s_feature_incompat, 0x60) the _hi halves at 0x150 and 0x158.
        bool is64 = (le32(0x60) & 0x80) != 0;
        std::uint64_t blocks = le32(4) | (is64 ? le32(0x150) << 32 : 0);
        std::uint64_t free = le32(12) | (is64 ? le32(0x158) << 32 : 0);
        std::uint64_t log = le32(24);
        if (log <= 6) {
            fs.size_bytes = blocks << (10 + log);
            fs.free_bytes = free << (10 + log);
        }
        fs.label = std::string(reinterpret_cast<const char*>(sb + 120),
                               strnlen(reinterpret_cast<const char*>(sb + 120), 16));
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
            std::string label(reinterpret_cast<const char*>(s + 4), 11);
            while (!label.empty() && label.back() == ' ')
                label.pop_back();
            if (label != "NO NAME") fs.label = label;
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
