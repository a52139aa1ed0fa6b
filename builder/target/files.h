#pragma once
// Files inside a target root as its chroot sees them, built on the one in-root resolver
// (target/in_root.h): existence, reads, owners through the image's /etc/passwd and /etc/group,
// and writes that are atomic (util/file.h) and change nothing when the file is already as asked.
// Throws ccbake::Error.
#include "target/in_root.h"

#include <filesystem>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace ccbake::target {

// Whether `inside` exists (symlinks followed within the root; a dangling link does not exist).
bool exists(const std::filesystem::path& root, const std::string& inside);
bool is_dir(const std::filesystem::path& root, const std::string& inside);
// The topmost directory of `inside` that does not exist yet ("" when it exists): what to
// remove to undo creating it.
std::string topmost_missing(const std::filesystem::path& root, const std::string& inside);

// Removes the file, link or directory tree at `inside` (a link itself, never what it points
// to); for undoing what a failed step created, so it never throws.
void remove_tree(const std::filesystem::path& root, const std::string& inside) noexcept;

// Writes `content` (mode 0644) unless the file already holds it; returns whether it wrote.
bool write_if_changed(const std::filesystem::path& root, const std::string& inside,
                      const std::string& content);

// Uid and gid of "USER:GROUP" (names or numbers) from the image's /etc/passwd and /etc/group.
struct Owner {
    uid_t uid = 0;
    gid_t gid = 0;
};
Owner resolve_owner(const std::filesystem::path& root, const std::string& user_group);

// Parses an octal mode ("0644"); throws ccbake::UsageError otherwise.
mode_t parse_mode(const std::string& octal);

struct WantedFile {
    std::optional<std::string> content; // the text to write...
    std::filesystem::path source;       // ...or a host file to copy
    mode_t mode = 0644;
    Owner owner;
};

// Makes `inside` hold `wanted`: creates parent directories (0755, root), writes atomically
// when the content differs (a symlink there is replaced, never written through), fixes mode and
// owner in place when only they differ. Returns one line per change; empty when nothing changed.
std::vector<std::string> ensure_file(const std::filesystem::path& root, const std::string& inside,
                                     const WantedFile& wanted);

} // namespace ccbake::target
