#pragma once
// A staged raw disk attached for baking: the ext4 root on a loop device at its byte offset,
// mounted read-write; the ESP (found through the image's fstab) at its mount point inside
// the root. Nothing depends on the host kernel parsing partition tables or knowing FAT.
// finish() writes everything back and unmounts; the destructor only tears down.
#include "image/chroot.h"
#include "image/esp.h"
#include "image/loop.h"
#include "image/probe.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace ccbake::image {

// Names of the image's block devices inside the chroot (/dev/NAME); a grub.cfg that names
// them (or /dev/loop*) would not boot elsewhere.
inline constexpr const char* kRootNode = "ccbake-root";
inline constexpr const char* kEspNode = "ccbake-esp";

class AttachedDisk {
  public:
    // `disk` is a path child processes can open for the same file as `disk_fd`.
    AttachedDisk(int disk_fd, const std::filesystem::path& disk, const DiskLayout& layout,
                 const std::filesystem::path& workspace);
    ~AttachedDisk();
    AttachedDisk(const AttachedDisk&) = delete;
    AttachedDisk& operator=(const AttachedDisk&) = delete;

    const std::filesystem::path& root() const { return root_; }
    // Gives the chroot the root's loop device and /dev/disk/by-uuid links, so tools such as
    // update-grub name file systems by UUID, never by loop device.
    void expose_in(ChrootTarget& target) const;
    // Mount points this disk keeps (root, ESP), which post-checks must not count as leftovers.
    std::vector<std::filesystem::path> own_mounts() const;
    // The names a kernel command line may give this disk's root: UUID=, PARTUUID= (lower
    // case), LABEL= when the file system has a label.
    std::vector<std::string> root_names() const;
    // Where the ESP is mounted on the host (under root()), or nullptr when the disk has none.
    const std::filesystem::path* esp_dir() const { return esp_ ? &esp_->mount_point() : nullptr; }
    // One line for people: where the root and the ESP are and how the ESP is reached.
    std::string describe() const;
    // ESP written back, everything unmounted and flushed. Throws ccbake::Error.
    void finish();

  private:
    DiskLayout layout_;
    std::filesystem::path root_;
    std::unique_ptr<LoopDevice> root_loop_;
    std::unique_ptr<EspAccess> esp_;
    std::string esp_mount_; // inside the image, e.g. /boot/efi; "" when fstab names none
    bool root_mounted_ = false;
};

// The ESP's mount point according to an fstab's text ("" when it names none): the line whose
// type is vfat or whose source is the ESP's UUID/PARTUUID.
std::string esp_mount_point(const std::string& fstab, const std::string& esp_fs_uuid,
                            const std::string& esp_partuuid);

} // namespace ccbake::image
