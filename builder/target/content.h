#pragma once
// The content of a root file system as a user compares it, and one digest over it. Every path
// of the root's own file system (mount points below it are listed, what is mounted there is
// not), sorted by its bytes, with: type, permission bits, owner, size, the sha256 of a regular
// file's bytes, a symlink's target text, and the file capabilities (security.capability). Left
// out on purpose: timestamps, inode numbers and link counts, other extended attributes, the
// file system's UUID and free blocks, and the paths the caller excludes (ccbake's own manifest
// and journal). The list's text is the digest's input, so two roots with the same list have the
// same digest. Format: docs/bake.md, "Content digest". Throws ccbake::Error.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ccbake::target {

struct ContentEntry {
    std::string path;  // absolute inside the root, e.g. "/etc/motd"
    char type = '?';   // f file, d directory, l symlink, c/b device, p fifo, s socket
    unsigned mode = 0; // permission bits with set-id and sticky (07777)
    unsigned uid = 0, gid = 0;
    std::uint64_t size = 0;   // regular files only
    std::string sha256;       // regular files only
    std::string link;         // symlinks only: the target as written
    std::string capabilities; // hex of security.capability, when set
};

// Lists `root`. `excluded` are absolute paths inside it, or shell patterns of them ('*' does not
// cross a '/'); an excluded directory excludes all below it.
std::vector<ContentEntry> list_content(const std::filesystem::path& root,
                                       const std::vector<std::string>& excluded);

// One line of the list: "SHA256|- TYPE MODE UID:GID SIZE PATH[ -> LINK][ cap=HEX]", with bytes
// outside printable ASCII, spaces and backslashes in PATH and LINK written as \xHH.
std::string content_line(const ContentEntry& e);
// The list's text: one line per entry, each ending in '\n'.
std::string content_text(const std::vector<ContentEntry>& entries);
// sha256 of content_text(entries).
std::string content_digest(const std::vector<ContentEntry>& entries);

// The list read back from content_text (lines it cannot parse throw ccbake::Error).
std::vector<ContentEntry> parse_content(const std::string& text);

// What differs between two lists: each path added, removed or changed, with a reason.
struct ContentChange {
    std::string path;
    std::string what; // "added", "removed", or e.g. "content", "mode 0644 -> 0600"
};
std::vector<ContentChange> compare_content(const std::vector<ContentEntry>& expected,
                                           const std::vector<ContentEntry>& actual);

} // namespace ccbake::target
