#pragma once
// Reads a disk's partition table from the first sectors of a raw image: the protective or
// legacy MBR and the GPT (header and entry array CRC-checked, 512- or 4096-byte sectors).
// Pure parsing of bytes handed in by a reader, so it is tested without devices.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ccbake::image {

// GPT partition type GUIDs ccbake cares about (upper case, as printed).
inline constexpr const char* kEspType = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
inline constexpr const char* kLinuxFsType = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
inline constexpr const char* kLinuxRootX86_64Type = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709";
inline constexpr const char* kMsBasicDataType = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7";
inline constexpr const char* kMsReservedType = "E3C9E316-0B5C-4DB8-817D-F92DF00215AE";
inline constexpr const char* kWinRecoveryType = "DE94BBA4-06D1-4D40-A16A-BFD50179D6AC";

struct Partition {
    int number = 0;           // 1-based, as partition tools print it
    std::string type;         // GPT type GUID, or "MBR:0xNN" for an MBR entry
    std::string uuid;         // GPT unique partition GUID ("" for MBR)
    std::string name;         // GPT partition name
    std::uint64_t offset = 0; // bytes from the start of the disk
    std::uint64_t size = 0;   // bytes
};

struct PartitionTable {
    enum class Kind { None, Mbr, Gpt } kind = Kind::None;
    std::uint32_t sector_size = 512;
    std::vector<Partition> partitions;
    std::string problem; // set when a GPT header was found but is damaged or truncated
};

// Reads `size` bytes at `offset` into the buffer; returns how many bytes were read.
using ReadAt = std::function<size_t(std::uint64_t offset, void* buf, size_t size)>;

PartitionTable read_partition_table(const ReadAt& read, std::uint64_t disk_size);
// Convenience for a file on the host.
PartitionTable read_partition_table(const std::string& path);

std::uint32_t crc32(const void* data, size_t size);
// Formats 16 bytes of an on-disk (mixed-endian) GUID.
std::string format_guid(const unsigned char* b);

} // namespace ccbake::image
