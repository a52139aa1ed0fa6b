#include "image/gpt.h"

#include "util/error.h"

#include <array>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ccbake::image {

namespace {

std::uint64_t le(const unsigned char* p, int n) {
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i)
        v = (v << 8) | p[i];
    return v;
}

std::string utf16le_name(const unsigned char* p, size_t bytes) {
    std::string out;
    for (size_t i = 0; i + 1 < bytes; i += 2) {
        unsigned c = p[i] | (p[i + 1] << 8);
        if (c == 0) break;
        out += c < 0x80 ? static_cast<char>(c) : '?';
    }
    return out;
}

std::vector<Partition> mbr_partitions(const unsigned char* mbr, std::uint64_t disk_size) {
    std::vector<Partition> parts;
    for (int i = 0; i < 4; ++i) {
        const unsigned char* e = mbr + 446 + 16 * i;
        if (e[4] == 0) continue;
        Partition p;
        p.number = i + 1;
        p.type = fmt::format("MBR:0x{:02x}", e[4]);
        p.offset = le(e + 8, 4) * 512;
        p.size = le(e + 12, 4) * 512;
        if (p.offset < disk_size) parts.push_back(p);
    }
    return parts;
}

// Tries a GPT header at LBA 1 for the given sector size. Returns false when there is none.
bool read_gpt(const ReadAt& read, std::uint64_t disk_size, std::uint32_t sector,
              PartitionTable& t) {
    std::array<unsigned char, 512> h{};
    if (read(sector, h.data(), h.size()) < 92 || std::memcmp(h.data(), "EFI PART", 8) != 0)
        return false;
    t.kind = PartitionTable::Kind::Gpt;
    t.sector_size = sector;
    std::uint32_t header_size = static_cast<std::uint32_t>(le(&h[12], 4));
    if (header_size < 92 || header_size > 512) {
        t.problem = "the GPT header has an impossible size";
        return true;
    }
    std::uint32_t want_crc = static_cast<std::uint32_t>(le(&h[16], 4));
    std::array<unsigned char, 512> copy = h;
    std::memset(&copy[16], 0, 4);
    if (crc32(copy.data(), header_size) != want_crc) {
        t.problem = "the GPT header checksum is wrong (damaged partition table)";
        return true;
    }
    std::uint64_t entries_lba = le(&h[72], 8);
    std::uint32_t count = static_cast<std::uint32_t>(le(&h[80], 4));
    std::uint32_t entry_size = static_cast<std::uint32_t>(le(&h[84], 4));
    std::uint32_t entries_crc = static_cast<std::uint32_t>(le(&h[88], 4));
    if (entry_size < 128 || entry_size > 4096 || count > 16384) {
        t.problem = "the GPT entry array has an impossible size";
        return true;
    }
    std::vector<unsigned char> entries(static_cast<size_t>(count) * entry_size);
    if (read(entries_lba * sector, entries.data(), entries.size()) != entries.size()) {
        t.problem = "the GPT entry array lies beyond the end of the file (truncated image)";
        return true;
    }
    if (crc32(entries.data(), entries.size()) != entries_crc) {
        t.problem = "the GPT entry array checksum is wrong (damaged partition table)";
        return true;
    }
    static const unsigned char zero[16] = {};
    for (std::uint32_t i = 0; i < count; ++i) {
        const unsigned char* e = &entries[static_cast<size_t>(i) * entry_size];
        if (std::memcmp(e, zero, 16) == 0) continue;
        Partition p;
        p.number = static_cast<int>(i + 1);
        p.type = format_guid(e);
        p.uuid = format_guid(e + 16);
        std::uint64_t first = le(e + 32, 8), last = le(e + 40, 8);
        p.name = utf16le_name(e + 56, std::min<size_t>(72, entry_size - 56));
        // LBAs are checked against the disk before they are multiplied: a huge LBA times the
        // sector size would wrap around to an offset inside the disk.
        const std::uint64_t sectors = disk_size / sector;
        if (first >= sectors || (last >= first && last >= sectors)) {
            p.offset = disk_size;
            p.size = 0;
            t.problem = fmt::format(
                "partition {} ends beyond the end of the file (truncated image)", p.number);
        } else {
            p.offset = first * sector;
            p.size = last >= first ? (last - first + 1) * sector : 0;
        }
        t.partitions.push_back(p);
    }
    return true;
}

} // namespace

std::uint32_t crc32(const void* data, size_t size) {
    static const auto table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k)
                c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    std::uint32_t c = 0xFFFFFFFFu;
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < size; ++i)
        c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

std::string format_guid(const unsigned char* b) {
    return fmt::format("{:08X}-{:04X}-{:04X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}",
                       static_cast<std::uint32_t>(le(b, 4)), static_cast<unsigned>(le(b + 4, 2)),
                       static_cast<unsigned>(le(b + 6, 2)), b[8], b[9], b[10], b[11], b[12], b[13],
                       b[14], b[15]);
}

PartitionTable read_partition_table(const ReadAt& read, std::uint64_t disk_size) {
    PartitionTable t;
    std::array<unsigned char, 512> mbr{};
    if (read(0, mbr.data(), mbr.size()) < 512) return t;
    for (std::uint32_t sector : {512u, 4096u})
        if (read_gpt(read, disk_size, sector, t)) return t;
    if (mbr[510] == 0x55 && mbr[511] == 0xAA) {
        auto parts = mbr_partitions(mbr.data(), disk_size);
        if (!parts.empty()) {
            t.kind = PartitionTable::Kind::Mbr;
            t.partitions = std::move(parts);
        }
    }
    return t;
}

PartitionTable read_partition_table(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
    struct stat st {};
    ::fstat(fd, &st);
    ReadAt reader = [fd](std::uint64_t off, void* buf, size_t n) -> size_t {
        ssize_t got = ::pread(fd, buf, n, static_cast<off_t>(off));
        return got < 0 ? 0 : static_cast<size_t>(got);
    };
    PartitionTable t = read_partition_table(reader, static_cast<std::uint64_t>(st.st_size));
    ::close(fd);
    return t;
}

} // namespace ccbake::image
