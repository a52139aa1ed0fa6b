#include "bake/readonly_root.h"

#include "bake/stage.h"
#include "image/loop.h"
#include "image/namespace.h"
#include "image/probe.h"
#include "util/error.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mount.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace ccbake::bake {

ReadOnlyRoot::ReadOnlyRoot(const fs::path& image) {
    const std::string what = image.string();
    image::ImageFile info = image::probe_image_file(image);
    fs::path raw = image;
    if (info.format == image::ImageFormat::Qcow2) {
        const char* tmp = std::getenv("TMPDIR");
        staged_ = std::make_unique<StagedImage>(fs::path(tmp && *tmp ? tmp : "/var/tmp") /
                                                "ccbake-verify");
        staged_->fill_from(image, info);
        raw = staged_->path();
    } else {
        fd_ = ::open(image.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0)
            throw PreflightError(fmt::format("cannot read {}: {}", what, std::strerror(errno)));
    }
    raw_ = raw;
    layout_ = image::check_disk_layout(raw, what);
    const image::DiskLayout& layout = layout_;
    loop_ = std::make_unique<image::LoopDevice>(staged_ ? staged_->fd() : fd_, layout.root.offset,
                                                layout.root.size, true);
    static int mounts = 0; // `diff` mounts two images at once
    root_ = image::private_workspace() / fmt::format("readonly-root-{}", mounts++);
    fs::create_directories(root_);
    // noload: an unclean journal is not replayed, so not a byte of the image changes.
    if (::mount(loop_->path().c_str(), root_.c_str(), "ext4", MS_RDONLY, "noload") != 0)
        throw PreflightError(fmt::format("cannot mount the root file system of {} "
                                         "(partition {}, ext4) read-only: {}",
                                         what, layout.root.number, std::strerror(errno)));
    mounted_ = true;
    loop_->close();
}
int ReadOnlyRoot::fd() const {
    return staged_ ? staged_->fd() : fd_;
}

ReadOnlyRoot::~ReadOnlyRoot() {
    if (mounted_) ::umount2(root_.c_str(), MNT_DETACH);
    loop_.reset();
    if (fd_ >= 0) ::close(fd_);
}

} // namespace ccbake::bake
