#include "image/gpt.h"
#include "image/superblock.h"

#include <cstring>
#include <doctest/doctest.h>
#include <vector>

using namespace ccbake::image;

namespace {

void put_le(std::vector<unsigned char>& d, size_t off, std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i)
        d[off + i] = static_cast<unsigned char>(v >> (8 * i));
}

// GUID text -> on-disk mixed-endian bytes.
void put_guid(std::vector<unsigned char>& d, size_t off, const char* text) {
    unsigned v[16];
    std::sscanf(text, "%2x%2x%2x%2x-%2x%2x-%2x%2x-%2x%2x-%2x%2x%2x%2x%2x%2x", &v[0], &v[1], &v[2],
                &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11], &v[12], &v[13],
                &v[14], &v[15]);
    const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    for (int i = 0; i < 16; ++i)
        d[off + i] = static_cast<unsigned char>(v[order[i]]);
}

// A 64 MiB disk's first 34 sectors: protective MBR, GPT header, 128 entries.
struct Disk {
    std::vector<unsigned char> bytes = std::vector<unsigned char>(34 * 512, 0);
    std::uint64_t size = 64ull << 20;

    void add(int index, const char* type, std::uint64_t first, std::uint64_t last) {
        size_t e = 1024 + 128 * static_cast<size_t>(index);
        put_guid(bytes, e, type);
        put_guid(bytes, e + 16, "01234567-89AB-CDEF-0123-456789ABCDEF");
        put_le(bytes, e + 32, first, 8);
        put_le(bytes, e + 40, last, 8);
    }
    void seal() {
        bytes[510] = 0x55, bytes[511] = 0xAA, bytes[446 + 4] = 0xEE;
        std::memcpy(&bytes[512], "EFI PART", 8);
        put_le(bytes, 512 + 12, 92, 4);
        put_le(bytes, 512 + 72, 2, 8);
        put_le(bytes, 512 + 80, 128, 4);
        put_le(bytes, 512 + 84, 128, 4);
        put_le(bytes, 512 + 88, crc32(&bytes[1024], 128 * 128), 4);
        put_le(bytes, 512 + 16, 0, 4);
        put_le(bytes, 512 + 16, crc32(&bytes[512], 92), 4);
    }
    ReadAt reader() const {
        return [this](std::uint64_t off, void* buf, size_t n) -> size_t {
            if (off >= bytes.size()) return off < size ? n : 0; // beyond the tables: zeros
            size_t got = std::min(n, bytes.size() - static_cast<size_t>(off));
            std::memcpy(buf, &bytes[off], got);
            if (got < n) std::memset(static_cast<char*>(buf) + got, 0, n - got);
            return off + n <= size ? n : static_cast<size_t>(size - off);
        };
    }
};

} // namespace

TEST_CASE("crc32 matches the IEEE check value") {
    CHECK(crc32("123456789", 9) == 0xCBF43926u);
}

TEST_CASE("a GPT's partitions are read with their types and byte offsets") {
    Disk d;
    d.add(0, kEspType, 2048, 2048 + 65535);
    d.add(1, kLinuxFsType, 67584, 131038);
    d.seal();
    PartitionTable t = read_partition_table(d.reader(), d.size);
    REQUIRE(t.kind == PartitionTable::Kind::Gpt);
    CHECK(t.problem.empty());
    REQUIRE(t.partitions.size() == 2);
    CHECK(t.partitions[0].type == kEspType);
    CHECK(t.partitions[0].number == 1);
    CHECK(t.partitions[0].offset == 2048 * 512);
    CHECK(t.partitions[0].size == 65536ull * 512);
    CHECK(t.partitions[1].type == kLinuxFsType);
    CHECK(t.partitions[1].uuid == "01234567-89AB-CDEF-0123-456789ABCDEF");
}

TEST_CASE("a damaged or truncated GPT is reported, not trusted") {
    Disk d;
    d.add(0, kEspType, 2048, 4095);
    d.seal();
    SUBCASE("header checksum") {
        d.bytes[512 + 40] ^= 1;
        CHECK(read_partition_table(d.reader(), d.size).problem.find("checksum") !=
              std::string::npos);
    }
    SUBCASE("entry checksum") {
        d.bytes[1024 + 33] ^= 1;
        CHECK(read_partition_table(d.reader(), d.size).problem.find("entry array checksum") !=
              std::string::npos);
    }
    SUBCASE("partition beyond the end of the file") {
        d.size = 1 << 20;
        CHECK(read_partition_table(d.reader(), d.size).problem.find("truncated") !=
              std::string::npos);
    }
}

TEST_CASE("an LBA so large that its byte offset wraps around is beyond the disk, not at 0") {
    // 2^55 sectors of 512 bytes is 2^64 bytes: multiplied first, it wraps to offset 0 and
    // would name the start of the disk (found by fuzzing).
    Disk d;
    d.add(0, kLinuxFsType, 1ull << 55, (1ull << 55) + 2047);
    d.seal();
    PartitionTable t = read_partition_table(d.reader(), d.size);
    CHECK(t.problem.find("partition 1 ends beyond the end of the file") != std::string::npos);
    REQUIRE(t.partitions.size() == 1);
    CHECK(t.partitions[0].offset != 0);
}

TEST_CASE("an MBR-only disk and a disk without any table are told apart") {
    Disk d;
    CHECK(read_partition_table(d.reader(), d.size).kind == PartitionTable::Kind::None);
    d.bytes[510] = 0x55, d.bytes[511] = 0xAA;
    d.bytes[446 + 4] = 0x83;
    put_le(d.bytes, 446 + 8, 2048, 4);
    put_le(d.bytes, 446 + 12, 4096, 4);
    PartitionTable t = read_partition_table(d.reader(), d.size);
    CHECK(t.kind == PartitionTable::Kind::Mbr);
    REQUIRE(t.partitions.size() == 1);
    CHECK(t.partitions[0].type == "MBR:0x83");
    CHECK(t.partitions[0].offset == 2048 * 512);
}

TEST_CASE("superblocks name ext4 by UUID and FAT by its volume serial") {
    std::vector<unsigned char> ext(2048, 0);
    ext[1024 + 56] = 0x53, ext[1024 + 57] = 0xEF;
    for (int i = 0; i < 16; ++i)
        ext[1024 + 104 + i] = static_cast<unsigned char>(0x10 + i);
    FsInfo e = identify_fs(ext.data(), ext.size());
    CHECK(e.type == "ext4");
    CHECK(e.uuid == "10111213-1415-1617-1819-1a1b1c1d1e1f");

    std::vector<unsigned char> fat(2048, 0);
    fat[510] = 0x55, fat[511] = 0xAA;
    std::memcpy(&fat[82], "FAT32   ", 8);
    fat[67] = 0x01, fat[68] = 0x00, fat[69] = 0xBA, fat[70] = 0xCC;
    FsInfo f = identify_fs(fat.data(), fat.size());
    CHECK(f.type == "vfat");
    CHECK(f.uuid == "CCBA-0001");

    std::vector<unsigned char> ntfs(2048, 0);
    std::memcpy(&ntfs[3], "NTFS    ", 8);
    CHECK(identify_fs(ntfs.data(), ntfs.size()).type == "ntfs");
}
