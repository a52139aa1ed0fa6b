#pragma once
// Writes a NoCloud seed ISO (ISO 9660 with Joliet and Rock Ridge, so "user-data" keeps its
// name) with libarchive; atomically: a temporary file renamed into place. Throws ccbake::Error.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace ccbake::render {

struct IsoFile {
    std::string name; // at the root of the ISO
    std::string content;
};

void write_seed_iso(const std::filesystem::path& out, const std::vector<IsoFile>& files,
                    const std::string& volume_id = "cidata");

// The volume label of an ISO 9660 image as blkid reports it (Joliet's when present, else the
// primary descriptor's); throws ccbake::Error when the file is not ISO 9660.
std::string iso_volume_id(const std::filesystem::path& iso);

} // namespace ccbake::render
