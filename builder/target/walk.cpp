#include "target/walk.h"

#include "util/error.h"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <fnmatch.h>
#include <unistd.h>

namespace ccbake::target {

namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path, int err) {
    throw Error(fmt::format("cannot {} {} in the image: {}", what, path, std::strerror(err)));
}

struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

void walk_dir(int dir_fd, const std::string& dir_path, dev_t dev, const WalkOptions& options,
              const WalkVisitor& visit) {
    int fd = ::dup(dir_fd);
    DIR* d = fd < 0 ? nullptr : ::fdopendir(fd);
    if (!d) {
        if (fd >= 0) ::close(fd);
        fail("list", dir_path.empty() ? "/" : dir_path, errno);
    }
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d))
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
            names.emplace_back(e->d_name);
    ::closedir(d);
    for (const auto& name : names) {
        const std::string path = dir_path + "/" + name;
        if (path_excluded(path, options.excluded)) continue;
        struct stat st {};
        if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            fail("stat", path, errno);
        visit(path, st, dir_fd, name);
        if (!S_ISDIR(st.st_mode) || (st.st_dev != dev && !options.cross_mounts)) continue;
        Fd sub{::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
        if (sub.fd < 0) fail("open", path, errno);
        walk_dir(sub.fd, path, st.st_dev, options, visit);
    }
}

} // namespace

bool path_excluded(const std::string& path, const std::vector<std::string>& patterns) {
    for (const auto& x : patterns)
        if (::fnmatch(x.c_str(), path.c_str(), FNM_PATHNAME | FNM_LEADING_DIR) == 0) return true;
    return false;
}

void walk_tree(const std::filesystem::path& root, const WalkOptions& options,
               const WalkVisitor& visit) {
    Fd fd{::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (fd.fd < 0)
        throw Error(
            fmt::format("cannot open the root {}: {}", root.string(), std::strerror(errno)));
    struct stat st {};
    if (::fstat(fd.fd, &st) != 0) fail("stat", "/", errno);
    visit("/", st, -1, "");
    walk_dir(fd.fd, "", st.st_dev, options, visit);
}

} // namespace ccbake::target
