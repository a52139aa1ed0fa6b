#pragma once
// Files inside a target root as the chroot sees them: symlinks resolve inside the image, owners
// through its /etc/passwd and /etc/group; writes are atomic (temporary file, fsync, rename) and
// change nothing when the file is already as asked.
#include "target/in_root.h"

#include <filesystem>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace ccbake::steps {

// Host path of `inside` (an absolute path in the image), resolved within `root`: the one
// in-root resolver (target/in_root.h).
using target::resolve_in_root;

// The file's content, or nullopt when it does not exist. Throws ccbake::Error when unreadable.
std::optional<std::string> read_text(const std::filesystem::path& host);

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

// Makes `host` (a path from resolve_in_root) hold `wanted`: creates parent directories
// (0755, root), writes atomically when the content differs, fixes mode and owner in place
// when only they differ. Returns one line per change made; empty when nothing changed.
std::vector<std::string> ensure_file(const std::filesystem::path& host, const std::string& inside,
                                     const WantedFile& wanted);

// Removes a file the step wrote earlier; returns whether it existed.
bool remove_file(const std::filesystem::path& host);

} // namespace ccbake::steps
