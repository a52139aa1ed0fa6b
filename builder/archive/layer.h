#pragma once
// File-level layers of a root, for the layer cache (bake/layers.h): a set of paths of a root
// written into one uncompressed pax archive with all their metadata (type, mode with set-id
// bits, numeric owner, times, extended attributes such as security.capability, ACLs, symlink
// targets, device nodes, and hard links among the paths), and such an archive applied back
// onto a root. Paths are inside the root ("/etc/motd"); both sides resolve them inside it and
// never write through a symlink. Throws ccbake::Error naming the path and the archive.
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace ccbake::archive {

// Writes `paths` of `root` (parents before children) into `out`, which must not exist.
void write_layer(const std::filesystem::path& root, const std::vector<std::string>& paths,
                 const std::filesystem::path& out);

// Writes every entry of `layer` below `root`, replacing what is there (a file by a directory
// and back); returns the number of entries. Owners, modes and times are restored where the
// file system holds them (the ESP's FAT holds no owner: not an error).
std::size_t apply_layer(const std::filesystem::path& layer, const std::filesystem::path& root);

} // namespace ccbake::archive
