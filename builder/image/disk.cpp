#include "image/disk.h"

#include "target/in_root.h"
#include "util/error.h"
#include "util/strings.h"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <sys/mount.h>

namespace fs = std::filesystem;

namespace ccbake::image {

std::string esp_mount_point(const std::string& fstab, const std::string& esp_fs_uuid,
                            const std::string& esp_partuuid) {
    for (const auto& raw : util::split(fstab, '\n')) {
        std::istringstream line(util::trim(raw));
        std::string spec, where, type;
        if (!(line >> spec >> where >> type) || spec[0] == '#') continue;
        std::string s = util::to_lower(spec);
        if (type == "vfat" ||
            (!esp_fs_uuid.empty() && s == "uuid=" + util::to_lower(esp_fs_uuid)) ||
            (!esp_partuuid.empty() && s == "partuuid=" + util::to_lower(esp_partuuid)))
            return where;
    }
    return "";
}

AttachedDisk::AttachedDisk(int disk_fd, const fs::path& disk, const DiskLayout& layout,
                           const fs::path& workspace)
    : layout_(layout), root_(workspace / "root") {
    fs::create_directories(root_);
    root_loop_ = std::make_unique<LoopDevice>(disk_fd, layout.root.offset, layout.root.size, false);
    if (::mount(root_loop_->path().c_str(), root_.c_str(), "ext4", 0, nullptr) != 0)
        throw Error(fmt::format("cannot mount the root file system (partition {}, ext4): {}",
                                layout.root.number, std::strerror(errno)),
                    "check it with e2fsck; the host kernel needs ext4 support");
    root_mounted_ = true;
    std::string fstab = target::read_in_root(root_, "/etc/fstab").value_or("");
    esp_mount_ = esp_mount_point(fstab, layout.esp_fs.uuid, layout.esp.uuid);
    if (!esp_mount_.empty() && esp_mount_.front() == '/') {
        // The image's fstab and its links choose the mount point: it is resolved in the root.
        target::make_dirs_in_root(root_, esp_mount_);
        esp_ = std::make_unique<EspAccess>(disk_fd, disk, layout.esp,
                                           target::resolve_in_root(root_, esp_mount_, true),
                                           workspace / "esp");
    }
}

AttachedDisk::~AttachedDisk() {
    esp_.reset();
    if (root_mounted_) ::umount2(root_.c_str(), MNT_DETACH);
}

// The node gets a neutral name and the loop name is only a symlink to it: tools resolve the
// root's device (grub-probe canonicalises the mount source) to the neutral name, so Debian's
// and Ubuntu's grub scripts, which skip file-backed /dev/loop[0-9] roots, still write entries.
void AttachedDisk::expose_in(ChrootTarget& target) const {
    target.add_device(root_loop_->path(), kRootNode);
    target.add_dev_symlink(root_loop_->name(), kRootNode);
    target.add_disk_link("by-uuid", layout_.root_fs.uuid, kRootNode);
    target.add_disk_link("by-partuuid", util::to_lower(layout_.root.uuid), kRootNode);
    target.add_disk_link("by-label", layout_.root_fs.label, kRootNode);
    if (esp_ && esp_->loop()) {
        target.add_device(esp_->loop()->path(), kEspNode);
        target.add_dev_symlink(esp_->loop()->name(), kEspNode);
        target.add_disk_link("by-uuid", layout_.esp_fs.uuid, kEspNode);
        target.add_disk_link("by-partuuid", util::to_lower(layout_.esp.uuid), kEspNode);
        target.add_disk_link("by-label", layout_.esp_fs.label, kEspNode);
    }
}

std::vector<std::string> AttachedDisk::root_names() const {
    std::vector<std::string> out = {"UUID=" + layout_.root_fs.uuid,
                                    "PARTUUID=" + util::to_lower(layout_.root.uuid)};
    if (!layout_.root_fs.label.empty()) out.push_back("LABEL=" + layout_.root_fs.label);
    return out;
}

std::vector<fs::path> AttachedDisk::own_mounts() const {
    std::vector<fs::path> out = {root_};
    if (esp_) out.push_back(esp_->mount_point());
    return out;
}

std::string AttachedDisk::describe() const {
    std::string s = fmt::format("root: partition {} (ext4 {}) on {}", layout_.root.number,
                                layout_.root_fs.uuid, root_loop_->path().string());
    if (!esp_)
        return s + fmt::format("; ESP: partition {} (not in the image's fstab, left alone)",
                               layout_.esp.number);
    return s + fmt::format("; ESP: partition {} at {} ({})", layout_.esp.number, esp_mount_,
                           esp_->kernel_mounted()
                               ? "vfat"
                               : "through mtools: this kernel has no FAT driver");
}

void AttachedDisk::finish() {
    if (esp_) esp_->commit();
    if (root_mounted_) {
        if (::umount2(root_.c_str(), 0) != 0)
            throw Error(fmt::format("cannot unmount the image's root: {}", std::strerror(errno)),
                        "a process started by a step may still be running in the image");
        root_mounted_ = false;
    }
    root_loop_->flush();
    root_loop_->close();
}

} // namespace ccbake::image
