#pragma once
// A baked image's root file system, mounted read-only in the caller's private mount namespace
// (image/namespace.h) for `verify` and `diff`: a raw disk through a read-only loop device, a
// qcow2 through a raw scratch copy (in $TMPDIR or /var/tmp, unnamed). ext4 is mounted with
// `noload`, so not even an unclean journal is replayed: not a byte of the image changes.
// Throws PreflightError (exit 3) when the file is no disk ccbake can read.
#include "image/probe.h"

#include <filesystem>
#include <memory>

namespace ccbake::image {
class LoopDevice;
}

namespace ccbake::bake {

class StagedImage;

class ReadOnlyRoot {
  public:
    explicit ReadOnlyRoot(const std::filesystem::path& image);
    ~ReadOnlyRoot();
    ReadOnlyRoot(const ReadOnlyRoot&) = delete;
    ReadOnlyRoot& operator=(const ReadOnlyRoot&) = delete;
    const std::filesystem::path& root() const { return root_; }
    // The raw disk (the image, or the scratch copy of a qcow2), a path and a read-only fd.
    const std::filesystem::path& raw() const { return raw_; }
    int fd() const;
    const image::DiskLayout& layout() const { return layout_; }

  private:
    std::unique_ptr<StagedImage> staged_;
    std::unique_ptr<image::LoopDevice> loop_;
    std::filesystem::path root_, raw_;
    image::DiskLayout layout_;
    int fd_ = -1;
    bool mounted_ = false;
};

} // namespace ccbake::bake
