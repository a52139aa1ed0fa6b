#pragma once
// What grub 2.06 measures as it boots the default entry: every command its script engine runs
// (PCR 8, "grub_cmd: " + the arguments after expansion and quote removal, joined by spaces; the
// digest is of the text without that prefix), the kernel command line ("kernel_cmdline: "), and
// every file it opens outside its memdisk (PCR 9, named as opened, the digest of its bytes);
// all EV_IPL (grub-core/commands/tpm.c, kern/verifiers.c, script/execute.c; menuentry.c for the
// `setparams` line that starts an entry). A TPM receives these from any grub with the tpm
// module; a TD only from a grub with EFI_CC_MEASUREMENT_PROTOCOL.
//
// The script subset is what grub-mkconfig (Debian's and Ubuntu's) and grub-install write: simple
// commands and assignments, quoting and $variables, if/elif/else, functions, menuentry and
// submenu blocks, [ ... ] tests, set/export, search (by file-system UUID), source, configfile,
// load_env, insmod, loadfont, linux and initrd. A command it does not know is assumed to
// succeed, and said so in `notes`.
#include "measure/events.h"

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ccbake::measure {

// What is built into a grub EFI image (grub-mkimage's "mods" section).
struct GrubImage {
    std::string config;            // the embedded early config
    std::string prefix;            // the embedded prefix, e.g. /EFI/debian
    std::string memdisk;           // the memdisk's bytes (a FAT image), or empty
    std::set<std::string> modules; // built-in modules
};
// Throws MeasureError when `pe` has no readable mods section.
GrubImage read_grub_image(std::string_view pe, const std::string& what);

// The disk as grub sees it: hd0, partitions gptN.
struct GrubDisk {
    int boot_partition = 0;           // the ESP grub was loaded from
    std::string loader_dir;           // its folder on the ESP, e.g. /EFI/debian ($cmdpath)
    std::map<std::string, int> uuids; // file-system UUID (lower case) -> partition
    // A file's bytes on a partition (nullopt when absent); whether a path is a directory.
    std::function<std::optional<std::string>(int, const std::string&)> read;
    std::function<bool(int, const std::string&)> is_dir;
    // A file of the memdisk, by path (nullopt when absent).
    std::function<std::optional<std::string>(const std::string&)> memdisk;
};

struct GrubRun {
    std::vector<Event> events; // PCR 8 and 9, in order
    std::vector<std::string> notes;
    std::string entry; // the title of the entry booted
};

GrubRun run_grub(const GrubImage& image, const GrubDisk& disk, bool secure_boot);

} // namespace ccbake::measure
