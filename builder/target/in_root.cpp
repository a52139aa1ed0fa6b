#include "target/in_root.h"

#include "util/error.h"
#include "util/strings.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace ccbake::target {

Fd::~Fd() {
    if (fd_ >= 0) ::close(fd_);
}

Fd& Fd::operator=(Fd&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = o.release();
    }
    return *this;
}

std::string Fd::proc_path() const {
    return fmt::format("/proc/self/fd/{}", fd_);
}

namespace {

constexpr int kMaxLinks = 40; // as the kernel's own limit on nested symlinks

using Parts = std::vector<std::string>;

Parts split_path(const std::string& p) {
    Parts out;
    for (auto& c : util::split(p, '/'))
        if (!c.empty() && c != ".") out.push_back(c);
    return out;
}

std::string join(const Parts& parts, size_t from = 0, size_t to = std::string::npos) {
    std::string s;
    for (size_t i = from; i < parts.size() && i < to; ++i)
        s += (s.empty() ? "" : "/") + parts[i];
    return s;
}

[[noreturn]] void fail(const std::string& what, const std::string& inside, int err) {
    throw Error(fmt::format("cannot {} {} in the image: {}", what, inside, std::strerror(err)));
}

std::string link_text(const std::string& proc) {
    char buf[PATH_MAX];
    ssize_t n = ::readlink(proc.c_str(), buf, sizeof buf);
    if (n < 0) throw Error(fmt::format("cannot read {}: {}", proc, std::strerror(errno)));
    return std::string(buf, static_cast<size_t>(n));
}

// One root being walked: its descriptor and its real path, which every resolved descriptor's
// real path starts with.
struct Root {
    Fd fd;
    std::string real;

    explicit Root(const fs::path& root) {
        fd = Fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!fd)
            throw Error(
                fmt::format("cannot open the root {}: {}", root.string(), std::strerror(errno)));
        real = link_text(fd.proc_path());
        if (real == "/") real.clear();
    }

    // openat2 from the root, confined to it; an invalid Fd and errno on failure.
    Fd open(const std::string& rel, int flags) const {
        open_how how{};
        how.flags = static_cast<unsigned long long>(flags | O_CLOEXEC);
        how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
        std::string path = rel.empty() ? "." : rel;
        // EAGAIN: a rename or mount elsewhere on the system raced a `..` step, and the kernel
        // could not prove it stayed inside; trying again is what openat2(2) asks for.
        for (int attempt = 0;; ++attempt) {
            Fd f(
                static_cast<int>(::syscall(SYS_openat2, fd.get(), path.c_str(), &how, sizeof how)));
            if (f || errno != EAGAIN || attempt >= 1000) return f;
        }
    }

    // The path of a resolved descriptor relative to the root ("" for the root itself).
    std::string rel_of(const Fd& d) const {
        std::string p = link_text(d.proc_path());
        if (p == real) return "";
        if (p.size() <= real.size() || p.compare(0, real.size(), real) != 0 ||
            p[real.size()] != '/')
            throw Error(fmt::format("internal: {} resolved outside the image's root {}", p, real));
        return p.substr(real.size() + 1);
    }
};

// How far a directory path resolved: the deepest existing directory, its path relative to the
// root, and the components below it that do not exist (empty when all do).
struct Walk {
    Fd dir;
    std::string rel;
    Parts missing;
};

Walk walk_dirs(const Root& r, Parts parts, bool create, mode_t mode, const std::string& inside) {
    Walk w{r.open("", O_PATH | O_DIRECTORY), "", {}};
    int links = 0;
    for (size_t i = 0; i < parts.size(); ++i) {
        const std::string& c = parts[i];
        std::string next = w.rel.empty() ? c : w.rel + "/" + c;
        Fd d = r.open(next, O_PATH | O_DIRECTORY);
        if (d) {
            w.rel = r.rel_of(d);
            w.dir = std::move(d);
            continue;
        }
        if (errno == ENOTDIR)
            throw Error(fmt::format("{} in the image is not a directory (at /{})", inside, next));
        if (errno != ENOENT) fail("resolve", inside, errno);
        struct stat st {};
        if (::fstatat(w.dir.get(), c.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISLNK(st.st_mode)) {
            // A dangling link: go on from its target, as the kernel would.
            if (++links > kMaxLinks) fail("resolve", inside, ELOOP);
            std::string target = link_text(fmt::format("{}/{}", w.dir.proc_path(), c));
            Parts rest(parts.begin() + static_cast<long>(i) + 1, parts.end());
            parts = split_path(target[0] == '/' ? target : w.rel + "/" + target);
            parts.insert(parts.end(), rest.begin(), rest.end());
            w = Walk{r.open("", O_PATH | O_DIRECTORY), "", {}};
            i = static_cast<size_t>(-1);
            continue;
        }
        if (!create) {
            w.missing.assign(parts.begin() + static_cast<long>(i), parts.end());
            return w;
        }
        if (::mkdirat(w.dir.get(), c.c_str(), mode) != 0 && errno != EEXIST)
            fail("create the directory", "/" + next, errno);
        --i; // open what was just made
    }
    return w;
}

// The parent of `inside` resolved (created with `create`) and its last component.
struct Parent {
    Walk walk;
    std::string name;
};

Parent parent_of(const Root& r, const std::string& inside, bool create) {
    if (inside.empty() || inside[0] != '/')
        throw Error(fmt::format("internal: '{}' is not an absolute path", inside));
    Parts parts = split_path(inside);
    if (parts.empty() || parts.back() == "..")
        throw Error(fmt::format("internal: '{}' does not name a file", inside));
    std::string name = parts.back();
    parts.pop_back();
    Walk w = walk_dirs(r, parts, create, 0755, inside);
    if (!w.missing.empty() && create) fail("create the parent of", inside, ENOENT);
    return {std::move(w), name};
}

Parent existing_parent(const Root& r, const std::string& inside, const char* what) {
    Parent p = parent_of(r, inside, false);
    if (!p.walk.missing.empty()) fail(what, inside, ENOENT);
    return p;
}

fs::path resolve(const fs::path& root, const Root& r, const std::string& inside, bool follow_last,
                 int depth) {
    Parts parts = split_path(inside);
    if (parts.empty()) return root;
    if (parts.back() == "..") {
        Walk w = walk_dirs(r, parts, false, 0, inside);
        return root / w.rel / join(w.missing);
    }
    Parent p = parent_of(r, inside, false);
    fs::path base = root / p.walk.rel;
    if (!p.walk.missing.empty()) return base / join(p.walk.missing) / p.name;
    struct stat st {};
    if (follow_last && ::fstatat(p.walk.dir.get(), p.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(st.st_mode)) {
        if (depth >= kMaxLinks) fail("resolve", inside, ELOOP);
        std::string target = link_text(fmt::format("{}/{}", p.walk.dir.proc_path(), p.name));
        std::string next = target[0] == '/' ? target : "/" + p.walk.rel + "/" + target;
        return resolve(root, r, next, true, depth + 1);
    }
    return base / p.name;
}

} // namespace

fs::path resolve_in_root(const fs::path& root, const std::string& inside, bool follow_last) {
    Root r(root);
    return resolve(root, r, inside, follow_last, 0);
}

Fd open_in_root(const fs::path& root, const std::string& inside, bool follow_last) {
    Root r(root);
    if (follow_last) {
        Fd d = r.open(join(split_path(inside)), O_PATH);
        if (!d && errno != ENOENT) fail("open", inside, errno);
        return d;
    }
    Parent p = parent_of(r, inside, false);
    if (!p.walk.missing.empty()) return Fd();
    Fd d(::openat(p.walk.dir.get(), p.name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!d && errno != ENOENT) fail("open", inside, errno);
    return d;
}

Fd make_dirs_in_root(const fs::path& root, const std::string& inside, mode_t mode) {
    Root r(root);
    return std::move(walk_dirs(r, split_path(inside), true, mode, inside).dir);
}

void replace_in_root(const fs::path& root, const std::string& inside, mode_t mode,
                     const std::function<void(util::AtomicFile&)>& fill) {
    Root r(root);
    Parent p = parent_of(r, inside, true);
    // The parent is an O_PATH descriptor: *at() calls work on it, fsync does not (ignored).
    util::AtomicFile f(p.walk.dir.get(), p.name, mode, inside + " in the image");
    fill(f);
    f.commit();
}

void write_in_root(const fs::path& root, const std::string& inside, const std::string& content,
                   mode_t mode) {
    replace_in_root(root, inside, mode, [&](util::AtomicFile& f) { f.write(content); });
}

std::optional<std::string> read_in_root(const fs::path& root, const std::string& inside) {
    Root r(root);
    Fd f = r.open(join(split_path(inside)), O_RDONLY);
    if (!f) {
        if (errno == ENOENT) return std::nullopt;
        fail("read", inside, errno);
    }
    std::string out;
    util::read_blocks(f.get(), inside + " in the image", [&](std::string_view block) {
        out.append(block);
        return true;
    });
    return out;
}

std::optional<struct ::stat> lstat_in_root(const fs::path& root, const std::string& inside) {
    Root r(root);
    Parent p = parent_of(r, inside, false);
    struct stat st {};
    if (!p.walk.missing.empty() ||
        ::fstatat(p.walk.dir.get(), p.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return std::nullopt;
    return st;
}

void rename_in_root(const fs::path& root, const std::string& from, const std::string& to) {
    Root r(root);
    Parent a = existing_parent(r, from, "rename");
    Parent b = parent_of(r, to, true);
    if (::renameat(a.walk.dir.get(), a.name.c_str(), b.walk.dir.get(), b.name.c_str()) != 0)
        fail("rename " + from + " to", to, errno);
}

bool remove_in_root(const fs::path& root, const std::string& inside) {
    Root r(root);
    Parent p = parent_of(r, inside, false);
    if (!p.walk.missing.empty()) return false;
    if (::unlinkat(p.walk.dir.get(), p.name.c_str(), 0) == 0) return true;
    if (errno == EISDIR && ::unlinkat(p.walk.dir.get(), p.name.c_str(), AT_REMOVEDIR) == 0)
        return true;
    if (errno == ENOENT) return false;
    fail("remove", inside, errno);
}

void symlink_in_root(const fs::path& root, const std::string& link_target,
                     const std::string& inside) {
    Root r(root);
    Parent p = parent_of(r, inside, true);
    ::unlinkat(p.walk.dir.get(), p.name.c_str(), 0);
    if (::symlinkat(link_target.c_str(), p.walk.dir.get(), p.name.c_str()) != 0)
        fail("create the link", inside, errno);
}

void mknod_in_root(const fs::path& root, const std::string& inside, mode_t mode, dev_t dev) {
    Root r(root);
    Parent p = parent_of(r, inside, true);
    if (::mknodat(p.walk.dir.get(), p.name.c_str(), mode, dev) != 0)
        fail("create the node", inside, errno);
}

} // namespace ccbake::target
