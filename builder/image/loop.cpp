#include "image/loop.h"

#include "util/error.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <thread>
#include <unistd.h>

namespace ccbake::image {

namespace {

const char* kLoopHint = "ccbake needs root and the loop driver (modprobe loop)";

// Configures a free loop device; false when another process took it first.
bool configure(int fd, int backing_fd, std::uint64_t offset, std::uint64_t size, bool read_only) {
    loop_config cfg{};
    cfg.fd = static_cast<std::uint32_t>(backing_fd);
    cfg.info.lo_offset = offset;
    cfg.info.lo_sizelimit = size;
    cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR | (read_only ? LO_FLAGS_READ_ONLY : 0);
    if (::ioctl(fd, LOOP_CONFIGURE, &cfg) == 0) return true;
    if (errno == EBUSY) return false;
    if (errno != EINVAL && errno != ENOTTY)
        throw Error(fmt::format("cannot configure a loop device: {}", std::strerror(errno)),
                    kLoopHint);
    // Kernels before 5.8: the two-step setup.
    if (::ioctl(fd, LOOP_SET_FD, backing_fd) != 0) {
        if (errno == EBUSY) return false;
        throw Error(fmt::format("cannot attach a loop device: {}", std::strerror(errno)),
                    kLoopHint);
    }
    if (::ioctl(fd, LOOP_SET_STATUS64, &cfg.info) != 0) {
        int err = errno;
        ::ioctl(fd, LOOP_CLR_FD, 0);
        throw Error(fmt::format("cannot set up a loop device: {}", std::strerror(err)), kLoopHint);
    }
    return true;
}

} // namespace

LoopDevice::LoopDevice(int backing_fd, std::uint64_t offset, std::uint64_t size, bool read_only) {
    int ctl = ::open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (ctl < 0)
        throw Error(fmt::format("cannot open /dev/loop-control: {}", std::strerror(errno)),
                    kLoopHint);
    for (int attempt = 0; attempt < 20; ++attempt) {
        int n = ::ioctl(ctl, LOOP_CTL_GET_FREE);
        if (n < 0) {
            int err = errno;
            ::close(ctl);
            throw Error(fmt::format("no free loop device: {}", std::strerror(err)), kLoopHint);
        }
        std::filesystem::path node = fmt::format("/dev/loop{}", n);
        for (int i = 0; i < 50 && !std::filesystem::exists(node); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        int fd = ::open(node.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        if (fd < 0) continue;
        try {
            if (configure(fd, backing_fd, offset, size, read_only)) {
                ::close(ctl);
                fd_ = fd;
                path_ = node;
                return;
            }
        } catch (...) {
            ::close(fd);
            ::close(ctl);
            throw;
        }
        ::close(fd);
    }
    ::close(ctl);
    throw Error("no free loop device after 20 attempts (others are taking them)", kLoopHint);
}

LoopDevice::~LoopDevice() {
    close();
}

void LoopDevice::flush() {
    if (fd_ >= 0) {
        ::fsync(fd_);
        ::ioctl(fd_, BLKFLSBUF, 0);
    }
}

void LoopDevice::close() {
    if (fd_ < 0) return;
    ::close(fd_);
    fd_ = -1;
}

} // namespace ccbake::image
