#pragma once
// md5 and sha256 of a file in one read (DualHasher: the two digests on two threads, so the pair
// costs about the wall time of md5 alone). Memory is a few fixed 1 MiB buffers. Throws
// ccbake::Error when the file cannot be read.
#include <cstdint>
#include <filesystem>
#include <string>

namespace ccbake::fetch {

struct FileDigests {
    std::string md5, sha256;
    std::uint64_t size = 0;
};

FileDigests digest_file(const std::filesystem::path& path);

} // namespace ccbake::fetch
