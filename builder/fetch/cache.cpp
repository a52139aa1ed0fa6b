#include "fetch/cache.h"

#include "util/digest.h"
#include "util/error.h"
#include "util/file.h"
#include "util/interrupt.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ccbake::fetch {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string read_small(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return {};
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

[[noreturn]] void fail_io(const std::string& what, const fs::path& p, int err) {
    throw Error(
        fmt::format("cannot {} {}: {}", what, p.string(), std::strerror(err)),
        err == ENOSPC
            ? "the cache's file system is full: free space or run `ccbake cache gc`"
            : "check the permissions of the cache directory, or choose another with --cache");
}

// fsync on a directory, so a rename in it survives a crash.
void fsync_dir(const fs::path& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

} // namespace

Cache::Cache(fs::path root) : root_(std::move(root)) {}

std::string Cache::key(const Expected& e) {
    if (!e.sha256.empty()) return "sha256-" + e.sha256;
    if (!e.md5.empty()) return "md5-" + e.md5;
    return "url-" + util::sha256_hex(e.url);
}

fs::path Cache::object(const std::string& sha256) const {
    return root_ / "objects" / "sha256" / sha256;
}
fs::path Cache::partial(const std::string& key) const {
    return root_ / "partial" / (key + ".partial");
}
fs::path Cache::lock_path(const std::string& key) const {
    return root_ / "locks" / (key + ".lock");
}
fs::path Cache::tmp_dir() const {
    return root_ / "tmp";
}

void Cache::ensure_dirs() const {
    std::error_code ec;
    for (const char* d : {"objects/sha256", "index/md5", "index/url", "partial", "locks", "tmp"}) {
        fs::create_directories(root_ / d, ec);
        if (ec) fail_io("create the cache directory", root_ / d, ec.value());
    }
}

std::optional<std::string> Cache::lookup(const Expected& e) const {
    std::string sha = e.sha256;
    if (sha.empty() && !e.md5.empty()) sha = read_small(root_ / "index" / "md5" / e.md5);
    if (sha.empty() && e.md5.empty())
        sha = read_small(root_ / "index" / "url" / util::sha256_hex(e.url));
    if (sha.size() != 64) return std::nullopt;
    std::error_code ec;
    if (!fs::is_regular_file(object(sha), ec)) return std::nullopt;
    if (e.size && fs::file_size(object(sha), ec) != e.size) return std::nullopt;
    return sha;
}

std::optional<Stamp> Cache::stamp(const std::string& sha256) const {
    std::string text = read_small(fs::path(object(sha256)) += ".stamp");
    if (text.empty()) return std::nullopt;
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    Stamp s;
    s.md5 = j.value("md5", "");
    s.sha256 = j.value("sha256", "");
    s.size = j.value("size", std::uint64_t{0});
    s.mtime_ns = j.value("mtime_ns", std::int64_t{0});
    s.ctime_ns = j.value("ctime_ns", std::int64_t{0});
    s.inode = j.value("inode", std::uint64_t{0});
    s.used = j.value("used", std::int64_t{0});
    s.names = j.value("names", std::vector<std::string>{});
    return s;
}

bool Cache::stamp_fresh(const std::string& sha256) const {
    auto s = stamp(sha256);
    struct stat st;
    if (!s || s->sha256 != sha256 || ::stat(object(sha256).c_str(), &st) != 0) return false;
    auto ns = [](const timespec& t) { return std::int64_t(t.tv_sec) * 1000000000 + t.tv_nsec; };
    return s->size == std::uint64_t(st.st_size) && s->mtime_ns == ns(st.st_mtim) &&
           s->ctime_ns == ns(st.st_ctim) && s->inode == std::uint64_t(st.st_ino);
}

void Cache::write_stamp(const std::string& sha256, Stamp s) const {
    struct stat st;
    if (::stat(object(sha256).c_str(), &st) != 0) return;
    auto ns = [](const timespec& t) { return std::int64_t(t.tv_sec) * 1000000000 + t.tv_nsec; };
    json j = {{"md5", s.md5},
              {"sha256", sha256},
              {"size", std::uint64_t(st.st_size)},
              {"mtime_ns", ns(st.st_mtim)},
              {"ctime_ns", ns(st.st_ctim)},
              {"inode", std::uint64_t(st.st_ino)},
              {"used", s.used ? s.used : now_seconds()},
              {"names", s.names}};
    util::write_file_atomic(fs::path(object(sha256)) += ".stamp", j.dump(2) + "\n");
}

fs::path Cache::insert(const fs::path& verified_file, const std::string& md5,
                       const std::string& sha256, const Expected& e, const std::string& name) {
    ensure_dirs();
    fs::path dest = object(sha256);
    ::chmod(verified_file.c_str(), 0444);
    if (::rename(verified_file.c_str(), dest.c_str()) != 0)
        fail_io("move into the cache", dest, errno);
    fsync_dir(dest.parent_path());
    Stamp s;
    s.md5 = md5;
    s.names = {name};
    write_stamp(sha256, s);
    util::write_file_atomic(root_ / "index" / "md5" / md5, sha256);
    if (e.sha256.empty() && e.md5.empty())
        util::write_file_atomic(root_ / "index" / "url" / util::sha256_hex(e.url), sha256);
    return dest;
}

void Cache::touch(const std::string& sha256, const std::string& name) {
    auto s = stamp(sha256);
    if (!s) return;
    s->used = now_seconds();
    if (std::find(s->names.begin(), s->names.end(), name) == s->names.end())
        s->names.push_back(name);
    write_stamp(sha256, *s);
}

void Cache::restamp(const std::string& sha256, const std::string& md5, const std::string& name) {
    Stamp s = stamp(sha256).value_or(Stamp{});
    s.md5 = md5;
    s.used = now_seconds();
    if (std::find(s.names.begin(), s.names.end(), name) == s.names.end()) s.names.push_back(name);
    write_stamp(sha256, s);
}

void Cache::evict(const std::string& sha256) {
    std::error_code ec;
    fs::remove(fs::path(object(sha256)) += ".stamp", ec);
    fs::remove(object(sha256), ec);
}

std::vector<Stamp> Cache::list() const {
    std::vector<Stamp> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(root_ / "objects" / "sha256", ec)) {
        std::string n = entry.path().filename().string();
        if (n.size() != 64) continue;
        Stamp s = stamp(n).value_or(Stamp{});
        s.sha256 = n;
        s.size = entry.file_size(ec);
        out.push_back(s);
    }
    std::sort(out.begin(), out.end(), [](const Stamp& a, const Stamp& b) {
        return a.used != b.used ? a.used < b.used : a.sha256 < b.sha256;
    });
    return out;
}

FileLock& FileLock::operator=(FileLock&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = o.fd_;
        o.fd_ = -1;
    }
    return *this;
}

FileLock::~FileLock() {
    if (fd_ >= 0) ::close(fd_);
}

namespace {
int open_lock(const fs::path& path) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) fail_io("open the lock file", path, errno);
    return fd;
}
} // namespace

FileLock FileLock::try_lock(const fs::path& path) {
    int fd = open_lock(path);
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return FileLock(fd);
    ::close(fd);
    return FileLock();
}

FileLock FileLock::lock(const fs::path& path) {
    int fd = open_lock(path);
    while (::flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR || util::interrupted()) {
            if (errno == EINTR) {
                ::close(fd);
                util::throw_if_interrupted();
            }
            int err = errno;
            ::close(fd);
            fail_io("lock", path, err);
        }
    }
    return FileLock(fd);
}

} // namespace ccbake::fetch
