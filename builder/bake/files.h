#pragma once
// Small file helpers for the bake: atomic writes (temporary file, fsync, rename) and reads.
#include <filesystem>
#include <string>

namespace ccbake::bake {

// Writes `content` to `path` atomically, creating parent directories; mode 0644. Throws Error.
void write_file_atomic(const std::filesystem::path& path, const std::string& content);
// The whole file, or "" when it cannot be read.
std::string read_file(const std::filesystem::path& path);

} // namespace ccbake::bake
