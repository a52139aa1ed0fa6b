#pragma once
// Confined extraction with libarchive (docs/steps-install.md). Every entry is checked before
// anything is written: absolute paths, `..`, paths through a symlink, hard links out of the
// archive and device nodes are refused with an Error naming the entry. A missing `dest` is
// filled through a staging directory renamed into place, so it appears whole or not at all.
#include <cstddef>
#include <filesystem>
#include <string>

namespace ccbake::archive {

struct ExtractOptions {
    unsigned strip_components = 0; // leading path components dropped from every entry
    bool allow_devices = false;    // create character/block devices and FIFOs
    std::string label;             // how errors name the archive (default: its file name)
};

struct ExtractResult {
    std::size_t entries = 0; // entries written (after stripping)
};

// Extracts `archive` (any format and compression libarchive reads) into `dest`.
// Throws ccbake::Error when the archive cannot be read or an entry is refused.
ExtractResult extract_confined(const std::filesystem::path& archive,
                               const std::filesystem::path& dest,
                               const ExtractOptions& options = {});

} // namespace ccbake::archive
