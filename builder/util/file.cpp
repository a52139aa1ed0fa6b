#include "util/file.h"

#include "util/error.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace ccbake::util {

namespace {

// A name no other writer picks: the process, a counter and the clock.
std::string temporary_name(const std::string& name) {
    static std::atomic<unsigned> counter{0};
    auto now = static_cast<unsigned long long>(
        std::chrono::steady_clock::now().time_since_epoch().count());
    return fmt::format(".{}.ccbake-{}-{}-{:x}", name, ::getpid(), counter++, now & 0xffffff);
}

} // namespace

AtomicFile::AtomicFile(int dir_fd, std::string name, mode_t mode, std::string shown)
    : dir_fd_(dir_fd), name_(std::move(name)), shown_(std::move(shown)), mode_(mode) {
    open_temporary();
}

AtomicFile::AtomicFile(const fs::path& path, mode_t mode)
    : own_dir_(true), name_(path.filename().string()), shown_(path.string()), mode_(mode) {
    fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) fail("create the directory of", ec.value());
    dir_fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd_ < 0) fail("open the directory of", errno);
    try {
        open_temporary();
    } catch (...) {
        ::close(dir_fd_);
        throw;
    }
}

AtomicFile::~AtomicFile() {
    if (fd_ >= 0) {
        ::close(fd_);
        ::unlinkat(dir_fd_, tmp_.c_str(), 0);
    }
    if (own_dir_ && dir_fd_ >= 0) ::close(dir_fd_);
}

void AtomicFile::open_temporary() {
    for (int tries = 0; tries < 100; ++tries) {
        tmp_ = temporary_name(name_);
        fd_ = ::openat(dir_fd_, tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                       0600);
        if (fd_ >= 0) return;
        if (errno != EEXIST) fail("create", errno);
    }
    fail("create", EEXIST);
}

void AtomicFile::fail(const std::string& what, int err) const {
    throw Error(fmt::format("cannot {} {}: {}", what, shown_, std::strerror(err)),
                err == ENOSPC ? "the file system is full: free space and run again" : "");
}

void AtomicFile::write(std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd_, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail("write", n < 0 ? errno : EIO);
        data.remove_prefix(static_cast<size_t>(n));
    }
}

void AtomicFile::write_file(const fs::path& source) {
    int in = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0)
        throw Error(fmt::format("cannot read {}: {}", source.string(), std::strerror(errno)));
    try {
        read_blocks(in, source.string(), [this](std::string_view block) {
            write(block);
            return true;
        });
    } catch (...) {
        ::close(in);
        throw;
    }
    ::close(in);
}

void AtomicFile::commit() {
    if (::fchmod(fd_, mode_) != 0 || ::fsync(fd_) != 0) fail("write", errno);
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) {
        int err = errno;
        ::unlinkat(dir_fd_, tmp_.c_str(), 0);
        fail("write", err);
    }
    if (::renameat(dir_fd_, tmp_.c_str(), dir_fd_, name_.c_str()) != 0) {
        int err = errno;
        ::unlinkat(dir_fd_, tmp_.c_str(), 0);
        fail("move into place", err);
    }
    ::fsync(dir_fd_);
}

void write_file_atomic(const fs::path& path, std::string_view content, mode_t mode) {
    AtomicFile f(path, mode);
    f.write(content);
    f.commit();
}

void read_blocks(int fd, const std::string& what,
                 const std::function<bool(std::string_view)>& sink) {
    char buf[1 << 16];
    while (true) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw Error(fmt::format("cannot read {}: {}", what, std::strerror(errno)));
        if (n == 0 || !sink(std::string_view(buf, static_cast<size_t>(n)))) return;
    }
}

std::optional<std::string> read_file(const fs::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return std::nullopt;
    if (fd < 0) throw Error(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
    std::string out;
    try {
        read_blocks(fd, path.string(), [&](std::string_view block) {
            out.append(block);
            return true;
        });
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
    return out;
}

} // namespace ccbake::util
