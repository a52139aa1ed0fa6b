#pragma once
// A loop device over a byte range of a file (one partition of a disk image), with autoclear:
// the kernel detaches it when its last user goes — our descriptor and any mount of it — so
// even a killed ccbake leaves none attached. Needs no partition parsing by the kernel.
#include <cstdint>
#include <filesystem>
#include <string>

namespace ccbake::image {

class LoopDevice {
  public:
    // Attaches `backing_fd` from `offset` for `size` bytes. Throws ccbake::Error.
    LoopDevice(int backing_fd, std::uint64_t offset, std::uint64_t size, bool read_only);
    ~LoopDevice();
    LoopDevice(const LoopDevice&) = delete;
    LoopDevice& operator=(const LoopDevice&) = delete;

    const std::filesystem::path& path() const { return path_; }    // /dev/loopN
    std::string name() const { return path_.filename().string(); } // loopN
    // Flushes the device's cache to the backing file.
    void flush();
    // Drops our reference: the device detaches once nothing mounts it.
    void close();

  private:
    int fd_ = -1;
    std::filesystem::path path_;
};

} // namespace ccbake::image
