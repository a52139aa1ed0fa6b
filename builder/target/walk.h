#pragma once
// The one walk over a root's tree that the content digest (target/content.h) and the layer
// cache (bake/layers.h) share: every path below `root`, no symlink ever followed (each step is
// an openat/fstatat relative to its directory's descriptor), in no particular order. Throws
// ccbake::Error naming the path it cannot list or stat.
#include <filesystem>
#include <functional>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace ccbake::target {

struct WalkOptions {
    // Absolute paths inside the root, or shell patterns of them ('*' does not cross a '/'): not
    // visited, nor anything below them.
    std::vector<std::string> excluded;
    // false: a directory on another file system (a mount point) is visited but not entered.
    bool cross_mounts = false;
};

// The path ("/" for the root itself, else "/etc/motd"), its lstat, and for an entry below the
// root the descriptor of its directory and its name there (for openat; -1 and "" for "/").
using WalkVisitor = std::function<void(const std::string& path, const struct stat& st, int dir_fd,
                                       const std::string& name)>;

void walk_tree(const std::filesystem::path& root, const WalkOptions& options,
               const WalkVisitor& visit);

// Whether `path` is one of `patterns` or below one (the rule of WalkOptions::excluded).
bool path_excluded(const std::string& path, const std::vector<std::string>& patterns);

} // namespace ccbake::target
