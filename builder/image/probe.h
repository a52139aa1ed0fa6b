#pragma once
// Preflight of an input disk file, before anything is copied: what kind of file it is (raw,
// qcow2, or something that is no disk image at all) and whether its layout is one ccbake
// bakes: GPT with an EFI System Partition holding FAT and an EFI boot loader, and an ext4
// root. Each rejection is a PreflightError (exit 3) with one line and a hint.
#include "image/gpt.h"
#include "image/superblock.h"

#include <cstdint>
#include <filesystem>
#include <string>

namespace ccbake::image {

enum class ImageFormat { Raw, Qcow2 };

struct ImageFile {
    ImageFormat format = ImageFormat::Raw;
    std::uint64_t virtual_size = 0; // the disk's size
    std::uint64_t allocated = 0;    // bytes the file really occupies (sparse files use less)
};

struct DiskLayout {
    PartitionTable table;
    Partition esp, root;
    FsInfo esp_fs, root_fs;
};

// Recognises the file's format; rejects empty, truncated or damaged qcow2 and non-image files.
ImageFile probe_image_file(const std::filesystem::path& path);
// Checks the partition layout of a raw disk read through `read`; `what` names it in messages.
DiskLayout check_disk_layout(const ReadAt& read, std::uint64_t disk_size, const std::string& what);
DiskLayout check_disk_layout(const std::filesystem::path& raw, const std::string& what);
// The ESP must carry an EFI boot loader (\EFI\BOOT\BOOTX64.EFI, or shim/grub in \EFI\*): read
// with mtools, which needs no kernel FAT driver.
void check_efi_loader(const std::filesystem::path& raw, const Partition& esp,
                      const std::string& what);

} // namespace ccbake::image
