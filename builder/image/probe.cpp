#include "image/probe.h"

#include "util/error.h"
#include "util/process.h"
#include "util/strings.h"

#include <array>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace ccbake::image {

namespace {

std::uint64_t be(const unsigned char* p, int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i)
        v = (v << 8) | p[i];
    return v;
}

const char* kLayoutHint =
    "give a raw or qcow2 UEFI disk: GPT, an EFI System Partition (FAT) with a boot loader, "
    "and an ext4 root";

// Names well-known non-disk formats by their magic bytes.
std::string other_format(const unsigned char* h, size_t n) {
    auto at = [&](size_t off, const char* magic) {
        size_t len = std::strlen(magic);
        return n >= off + len && std::memcmp(h + off, magic, len) == 0;
    };
    if (at(0, "KDMV")) return "a VMDK image (convert it: qemu-img convert -O qcow2 IN OUT.qcow2)";
    if (at(0, "vhdxfile"))
        return "a VHDX image (convert it: qemu-img convert -O qcow2 IN OUT.qcow2)";
    if (at(64, "<<< Oracle VM VirtualBox Disk Image >>>") ||
        at(0, "<<< Oracle VM VirtualBox Disk Image >>>"))
        return "a VirtualBox VDI image (convert it: qemu-img convert -O qcow2 IN OUT.qcow2)";
    if (at(0, "\x1f\x8b")) return "a gzip-compressed file (decompress it first)";
    if (at(0, "\xfd"
              "7zXZ"))
        return "an xz-compressed file (decompress it first)";
    if (at(0, "\x28\xb5\x2f\xfd")) return "a zstd-compressed file (decompress it first)";
    if (at(257, "ustar")) return "a tar archive, not a disk image";
    if (at(0x8001, "CD001")) return "an ISO 9660 CD image, not a disk image";
    return "";
}

ImageFile probe_qcow2(const fs::path& path, const unsigned char* h, std::uint64_t file_size) {
    const std::string what = path.string();
    ImageFile f;
    f.format = ImageFormat::Qcow2;
    std::uint64_t version = be(h + 4, 4), cluster_bits = be(h + 20, 4);
    f.virtual_size = be(h + 24, 8);
    std::uint64_t l1_size = be(h + 36, 4), l1_offset = be(h + 40, 8);
    std::uint64_t rc_offset = be(h + 48, 8), rc_clusters = be(h + 56, 4);
    if ((version != 2 && version != 3) || cluster_bits < 9 || cluster_bits > 21)
        throw PreflightError(
            fmt::format("{} has a qcow2 header that qemu cannot read (version {}, cluster bits {})",
                        what, version, cluster_bits),
            "the file is damaged; start again from the original image");
    if (be(h + 8, 8) != 0)
        throw PreflightError(fmt::format("{} is a qcow2 overlay with a backing file", what),
                             "flatten it first: qemu-img convert -O qcow2 IN FLAT.qcow2");
    if (l1_offset + l1_size * 8 > file_size ||
        rc_offset + (rc_clusters << cluster_bits) > file_size)
        throw PreflightError(
            fmt::format("{} is a truncated qcow2 image: its tables end beyond the file's {} bytes",
                        what, file_size),
            "the copy or download was cut short; fetch the image again");
    util::RunResult r = util::run({"qemu-img", "check", "-q", "-f", "qcow2", path.string()});
    // 0: clean; 3: leaked clusters only (harmless for reading).
    if (r.exit_code != 0 && r.exit_code != 3)
        throw PreflightError(
            fmt::format("{} is a damaged qcow2 image: {}", what,
                        util::trim(r.output).empty() ? "qemu-img check failed"
                                                     : util::split(util::trim(r.output), '\n')[0]),
            "the copy or download was cut short or corrupted; fetch the image again");
    return f;
}

} // namespace

ImageFile probe_image_file(const fs::path& path) {
    const std::string what = path.string();
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw PreflightError(fmt::format("cannot read {}: {}", what, std::strerror(errno)));
    struct stat st {};
    ::fstat(fd, &st);
    std::array<unsigned char, 0x8010> h{};
    ssize_t n = ::pread(fd, h.data(), h.size(), 0);
    ::close(fd);
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        throw PreflightError(fmt::format("{} is not a regular file", what), kLayoutHint);
    if (st.st_size == 0)
        throw PreflightError(fmt::format("{} is empty (0 bytes)", what), kLayoutHint);
    auto size = static_cast<std::uint64_t>(st.st_size);
    size_t got = n < 0 ? 0 : static_cast<size_t>(n);
    if (got >= 4 && std::memcmp(h.data(), "QFI\xfb", 4) == 0) {
        if (got < 72)
            throw PreflightError(
                fmt::format("{} is a truncated qcow2 image (only {} bytes)", what, size),
                "the copy or download was cut short; fetch the image again");
        ImageFile f = probe_qcow2(path, h.data(), size);
        f.allocated = static_cast<std::uint64_t>(st.st_blocks) * 512;
        return f;
    }
    if (std::string other = other_format(h.data(), got); !other.empty())
        throw PreflightError(fmt::format("{} is {}", what, other), kLayoutHint);
    if (size < 64 * 1024)
        throw PreflightError(fmt::format("{} is not a disk image: only {} bytes", what, size),
                             kLayoutHint);
    ImageFile f;
    f.virtual_size = size;
    f.allocated = std::min<std::uint64_t>(size, static_cast<std::uint64_t>(st.st_blocks) * 512);
    return f;
}

DiskLayout check_disk_layout(const ReadAt& read, std::uint64_t disk_size, const std::string& what) {
    DiskLayout d;
    d.table = read_partition_table(read, disk_size);
    if (!d.table.problem.empty())
        throw PreflightError(fmt::format("{}: {}", what, d.table.problem), kLayoutHint);
    if (d.table.kind == PartitionTable::Kind::None) {
        std::array<unsigned char, 4096> head{};
        size_t got = read(0, head.data(), head.size());
        if (identify_fs(head.data(), got).type == "ext4")
            throw PreflightError(
                fmt::format("{} is a bare ext4 file system, not a partitioned disk", what),
                "mount it and use --rootfs DIR, or give the whole disk image");
        throw PreflightError(
            fmt::format("{} is not a disk image: it has no partition table (neither GPT nor MBR)",
                        what),
            kLayoutHint);
    }
    bool windows = false, linux_fs = false;
    for (const auto& p : d.table.partitions) {
        FsInfo fs = identify_partition(read, p);
        if (fs.type == "ntfs" || p.type == kMsReservedType || p.type == kWinRecoveryType ||
            p.type == "MBR:0x07")
            windows = true;
        if (fs.type == "ext4") linux_fs = true;
    }
    if (windows && !linux_fs)
        throw PreflightError(
            fmt::format("{} is a Windows disk (NTFS or Microsoft partitions); ccbake bakes Ubuntu "
                        "Linux images only",
                        what),
            "confidential GPU images are Ubuntu 22.04; start from an Ubuntu UEFI cloud image");
    if (d.table.kind == PartitionTable::Kind::Mbr)
        throw PreflightError(
            fmt::format("{} has only an MBR (BIOS) partition table; confidential images boot with "
                        "UEFI from GPT",
                        what),
            "start from a UEFI image: GPT with an EFI System Partition");
    bool has_esp = false, has_root = false;
    for (const auto& p : d.table.partitions) {
        FsInfo fs = identify_partition(read, p);
        if (p.type == kEspType && !has_esp) {
            if (fs.type != "vfat")
                throw PreflightError(
                    fmt::format(
                        "{}: the EFI System Partition (partition {}) holds no FAT file system",
                        what, p.number),
                    "format it as FAT32 (mkfs.vfat -F 32) and install the boot loader");
            d.esp = p, d.esp_fs = fs, has_esp = true;
        } else if (fs.type == "ext4" && !has_root) {
            d.root = p, d.root_fs = fs, has_root = true;
        }
    }
    if (!has_esp)
        throw PreflightError(
            fmt::format("{} has a GPT but no EFI System Partition; it cannot boot with UEFI", what),
            "start from a UEFI image, or add an ESP (type EF00) with a boot loader");
    if (!has_root)
        throw PreflightError(
            fmt::format("{} has no ext4 root partition", what),
            "ccbake bakes images whose root file system is ext4 (as Ubuntu cloud images are)");
    return d;
}

DiskLayout check_disk_layout(const fs::path& raw, const std::string& what) {
    int fd = ::open(raw.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(fmt::format("cannot read {}: {}", raw.string(), std::strerror(errno)));
    struct stat st {};
    ::fstat(fd, &st);
    ReadAt reader = [fd](std::uint64_t off, void* buf, size_t n) -> size_t {
        ssize_t got = ::pread(fd, buf, n, static_cast<off_t>(off));
        return got < 0 ? 0 : static_cast<size_t>(got);
    };
    try {
        DiskLayout d = check_disk_layout(reader, static_cast<std::uint64_t>(st.st_size), what);
        ::close(fd);
        return d;
    } catch (...) {
        ::close(fd);
        throw;
    }
}

void check_efi_loader(const fs::path& raw, const Partition& esp, const std::string& what) {
    auto env = util::clean_environment();
    env["MTOOLS_SKIP_CHECK"] = "1";
    util::RunOptions o;
    o.env = env;
    util::RunResult r = util::run(
        {"mdir", "-i", fmt::format("{}@@{}", raw.string(), esp.offset), "-/", "-b", "::/EFI"}, o);
    for (const auto& line : util::split(util::to_lower(r.output), '\n')) {
        std::string l = util::trim(line);
        if (l.ends_with("/efi/boot/bootx64.efi") || l.ends_with("/shimx64.efi") ||
            l.ends_with("/grubx64.efi"))
            return;
    }
    throw PreflightError(
        fmt::format(
            "{}: the EFI System Partition has no EFI boot loader (no \\EFI\\BOOT\\BOOTX64.EFI, "
            "shimx64.efi or grubx64.efi)",
            what),
        "install one first (grub-install --target=x86_64-efi --removable) or start from a "
        "bootable UEFI image");
}

} // namespace ccbake::image
