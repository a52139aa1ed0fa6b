#include "bake/stage.h"

#include "util/error.h"
#include "util/interrupt.h"
#include "util/process.h"
#include "util/strings.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace ccbake::bake {

namespace {

Error io_error(const std::string& what, int err) {
    Error e(fmt::format("{}: {}", what, std::strerror(err)));
    if (err == ENOSPC)
        e = Error(fmt::format("{}: the output's file system is full", what),
                  "free space beside the output, or choose another --output folder");
    return e;
}

void write_all(int fd, const char* p, size_t n, off_t off) {
    while (n > 0) {
        ssize_t w = ::pwrite(fd, p, n, off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) throw io_error("cannot write the staged image", errno);
        p += w, n -= static_cast<size_t>(w), off += w;
    }
}

// Copies the data extents of `in` to `out` in the kernel (copy_file_range: a reflink where
// the file system can); holes stay holes.
void sparse_copy(int in, int out, std::uint64_t size) {
    const off_t end = static_cast<off_t>(size);
    off_t pos = 0;
    while (pos < end) {
        off_t data = ::lseek(in, pos, SEEK_DATA);
        if (data < 0) break; // ENXIO: only a hole remains
        off_t hole = ::lseek(in, data, SEEK_HOLE);
        if (hole < 0) hole = end;
        for (off_t at = data; at < hole;) {
            util::throw_if_interrupted();
            off_t src = at, dst = at;
            size_t want = static_cast<size_t>(std::min<off_t>(hole - at, off_t{64} << 20));
            ssize_t n = ::copy_file_range(in, &src, out, &dst, want, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP)) {
                std::vector<char> buf(want);
                n = ::pread(in, buf.data(), want, at);
                if (n > 0) write_all(out, buf.data(), static_cast<size_t>(n), at);
            }
            if (n < 0) throw io_error("cannot copy the input image", errno);
            if (n == 0) throw io_error("cannot copy the input image", EIO);
            at += n;
        }
        pos = hole;
    }
    if (::ftruncate(out, end) != 0) throw io_error("cannot size the staged image", errno);
}

} // namespace

StagedImage::StagedImage(const fs::path& output) : dir_(fs::absolute(output).parent_path()) {
    fd_ = ::open(dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
    if (fd_ >= 0) return;
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        throw io_error(fmt::format("cannot create the staged image in {}", dir_.string()), errno);
    named_ = dir_ / fmt::format(".{}.ccbake-stage-{}", output.filename().string(), ::getpid());
    fd_ = ::open(named_.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0644);
    if (fd_ < 0) throw io_error(fmt::format("cannot create {}", named_.string()), errno);
}

StagedImage::~StagedImage() {
    if (fd_ >= 0) ::close(fd_);
    if (!named_.empty()) {
        std::error_code ec;
        fs::remove(named_, ec);
    }
}

fs::path StagedImage::path() const {
    if (!named_.empty()) return named_;
    return fmt::format("/proc/{}/fd/{}", ::getpid(), fd_);
}

void StagedImage::fill_from(const fs::path& input, const image::ImageFile& info) {
    if (info.format == image::ImageFormat::Raw) {
        int in = ::open(input.c_str(), O_RDONLY | O_CLOEXEC);
        if (in < 0) throw io_error("cannot read " + input.string(), errno);
        try {
            sparse_copy(in, fd_, info.virtual_size);
            ::close(in);
            return;
        } catch (...) {
            ::close(in);
            throw;
        }
    }
    if (::ftruncate(fd_, static_cast<off_t>(info.virtual_size)) != 0)
        throw io_error("cannot size the staged image", errno);
    std::vector<std::string> argv = {"qemu-img",     "convert",      "-n", "--target-is-zero",
                                     "-f",           "qcow2",        "-O", "raw",
                                     input.string(), path().string()};
    util::RunResult r = util::run(argv);
    if (r.exit_code != 0) {
        Error e(
            fmt::format("cannot convert {} to a raw staged copy", input.string()),
            "check the free space beside the output and that the qcow2 is intact (qemu-img check)");
        e.add_context("command: " + util::join(argv, " "));
        e.add_context("output: " + util::trim(r.output));
        throw e;
    }
}

void StagedImage::publish(const fs::path& output, const std::string& format,
                          const std::string& compression) {
    const fs::path out = fs::absolute(output);
    const fs::path partial =
        dir_ / fmt::format(".{}.ccbake-partial-{}", out.filename().string(), ::getpid());
    struct Partial {
        fs::path p;
        bool keep = false;
        ~Partial() {
            std::error_code ec;
            if (!keep) fs::remove(p, ec);
        }
    } guard{partial};
    if (format == "raw") {
        if (::fsync(fd_) != 0) throw io_error("cannot flush the staged image", errno);
        if (!named_.empty()) {
            fs::rename(named_, partial);
            named_.clear();
        } else if (::linkat(AT_FDCWD, path().c_str(), AT_FDCWD, partial.c_str(),
                            AT_SYMLINK_FOLLOW) != 0) {
            throw io_error("cannot give the staged image a name", errno);
        }
    } else {
        std::vector<std::string> argv = {"qemu-img",
                                         "convert",
                                         "-c",
                                         "-f",
                                         "raw",
                                         "-O",
                                         "qcow2",
                                         "-o",
                                         "compression_type=" + compression,
                                         path().string(),
                                         partial.string()};
        util::RunResult r = util::run(argv);
        if (r.exit_code != 0) {
            Error e("cannot write the qcow2 output", "check the free space beside the output");
            e.add_context("command: " + util::join(argv, " "));
            e.add_context("output: " + util::trim(r.output));
            throw e;
        }
        int pfd = ::open(partial.c_str(), O_RDONLY | O_CLOEXEC);
        if (pfd >= 0) {
            ::fsync(pfd);
            ::close(pfd);
        }
    }
    if (::rename(partial.c_str(), out.c_str()) != 0)
        throw io_error("cannot publish " + out.string(), errno);
    guard.keep = true;
    int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

std::uint64_t space_needed(const image::ImageFile& in, std::uint64_t artifacts_bytes,
                           const std::string& format) {
    // The staged raw copy holds the input's data (a qcow2 expands: assume 2.5x, at most the
    // disk's size), plus what the steps add; a qcow2 output needs about as much again.
    std::uint64_t data = in.format == image::ImageFormat::Raw
                             ? in.allocated
                             : std::min<std::uint64_t>(in.virtual_size, in.allocated * 5 / 2);
    std::uint64_t staged = data + 2 * artifacts_bytes + (256ull << 20);
    return format == "qcow2" ? staged + data + artifacts_bytes : staged;
}

void check_free_space(const fs::path& output, std::uint64_t needed) {
    fs::path dir = fs::absolute(output).parent_path();
    struct statvfs st {};
    if (::statvfs(dir.c_str(), &st) != 0) throw io_error("cannot inspect " + dir.string(), errno);
    std::uint64_t free = static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
    if (free < needed)
        throw Error(fmt::format("not enough free space in {}: the bake needs about {}, {} is free",
                                dir.string(), util::human_bytes(needed), util::human_bytes(free)),
                    "free some space there or choose another --output folder");
}

} // namespace ccbake::bake
