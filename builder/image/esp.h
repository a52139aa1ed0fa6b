#pragma once
// The EFI System Partition of an attached disk, made visible at a directory of the mounted
// root. Where the host kernel can mount FAT, it is a loop device mounted as vfat. Where it
// cannot (no vfat driver), ccbake copies the ESP's files out with mtools into a private
// tmpfs, mounts that at the same place, and on commit() writes back exactly what the steps
// created, changed or removed — so steps read and write the ESP either way.
#include "image/gpt.h"
#include "image/loop.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace ccbake::image {

// Copies every file of the ESP of the raw disk `disk` into `dest` with mtools (read-only).
void copy_esp_files(const std::filesystem::path& disk, const Partition& esp,
                    const std::filesystem::path& dest);

// One file of the FAT file system at byte `offset` of `disk` (mtools, read-only), copied through
// the scratch folder `scratch`; nullopt when it has no such file.
std::optional<std::string> read_fat_file(const std::filesystem::path& disk, std::uint64_t offset,
                                         const std::string& path,
                                         const std::filesystem::path& scratch);

class EspAccess {
  public:
    // `disk` is a path the mtools child processes can open (e.g. /proc/PID/fd/N).
    EspAccess(int disk_fd, const std::filesystem::path& disk, const Partition& esp,
              const std::filesystem::path& mount_point, const std::filesystem::path& scratch);
    ~EspAccess();
    EspAccess(const EspAccess&) = delete;
    EspAccess& operator=(const EspAccess&) = delete;

    bool kernel_mounted() const { return loop_ != nullptr; }
    const LoopDevice* loop() const { return loop_.get(); }
    const std::filesystem::path& mount_point() const { return mount_point_; }
    // Writes the changes back (mtools) and unmounts. Throws ccbake::Error.
    void commit();

  private:
    void copy_out();
    void write_back();
    std::map<std::string, std::string>
    snapshot() const; // relative path -> sha256, "dir" for folders
    std::string mtools_image() const;

    std::filesystem::path disk_, mount_point_, scratch_;
    Partition esp_;
    std::unique_ptr<LoopDevice> loop_;
    std::map<std::string, std::string> before_;
    bool mounted_ = false;
};

} // namespace ccbake::image
