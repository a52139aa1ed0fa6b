#pragma once
// grub's defaults as grub-mkconfig reads them (/etc/default/grub, then grub.d/*.cfg in glob
// order), evaluated by a fixed /bin/sh script that takes the files as arguments; the drop-in
// ccbake writes; and the Linux entries of a generated grub.cfg.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace ccbake::config {

// The files grub-mkconfig sources, as absolute paths inside the image, in its order.
std::vector<std::string> grub_default_files(const std::filesystem::path& root);

// argv that prints the effective GRUB_CMDLINE_LINUX_DEFAULT and GRUB_CMDLINE_LINUX after
// sourcing `files` in order (run inside the image).
std::vector<std::string> grub_eval_argv(const std::vector<std::string>& files);
// Reads that argv's output: variable name -> value.
std::map<std::string, std::string> parse_grub_eval(const std::string& output);

// The drop-in's text: GRUB_CMDLINE_LINUX_DEFAULT="ARGS" quoted for /bin/sh; with
// `boot_with_initrd`, also an empty GRUB_FORCE_PARTUUID, which turns off Ubuntu's initrd-less
// first boot (its 10_linux then writes root=UUID= entries that load the initramfs).
std::string render_grub_dropin(const std::vector<std::string>& args, bool boot_with_initrd = false);

struct LinuxEntry {
    std::string title; // the enclosing menuentry's title
    bool recovery = false;
    int line = 0;                  // 1-based line number in grub.cfg
    std::vector<std::string> args; // the kernel arguments after the kernel path
};
// Every `linux` line of a grub.cfg, with the menuentry it belongs to.
std::vector<LinuxEntry> grub_linux_entries(const std::string& grub_cfg);

} // namespace ccbake::config
