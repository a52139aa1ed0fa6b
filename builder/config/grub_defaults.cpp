#include "config/grub_defaults.h"

#include "config/cmdline.h"
#include "target/in_root.h"
#include "util/strings.h"

#include <algorithm>

namespace fs = std::filesystem;

namespace ccbake::config {

namespace {

constexpr const char* kMarker = "@@ccbake-grub@@";

// Sources each argument like grub-mkconfig does (set -e, then `. FILE`), then prints the
// variables. The files are the image's own configuration, exactly as grub would run them.
constexpr const char* kEvalScript =
    "set -e\n"
    "for f in \"$@\"; do . \"$f\"; done\n"
    "printf '\\n@@ccbake-grub@@GRUB_CMDLINE_LINUX_DEFAULT=%s\\n' "
    "\"${GRUB_CMDLINE_LINUX_DEFAULT-}\"\n"
    "printf '@@ccbake-grub@@GRUB_CMDLINE_LINUX=%s\\n' \"${GRUB_CMDLINE_LINUX-}\"\n"
    "printf '@@ccbake-grub@@GRUB_FORCE_PARTUUID=%s\\n' \"${GRUB_FORCE_PARTUUID-}\"\n";

} // namespace

std::vector<std::string> grub_default_files(const fs::path& root) {
    std::vector<std::string> out;
    std::error_code ec;
    if (fs::exists(target::resolve_in_root(root, "/etc/default/grub", true), ec))
        out.push_back("/etc/default/grub");
    std::vector<std::string> cfgs;
    for (const auto& e :
         fs::directory_iterator(target::resolve_in_root(root, "/etc/default/grub.d", true), ec)) {
        std::string name = e.path().filename().string();
        if (name.size() > 4 && name.compare(name.size() - 4, 4, ".cfg") == 0) cfgs.push_back(name);
    }
    // The shell's glob order under the C.UTF-8 locale grub-mkconfig runs with: byte order.
    std::sort(cfgs.begin(), cfgs.end());
    for (const auto& c : cfgs)
        out.push_back("/etc/default/grub.d/" + c);
    return out;
}

std::vector<std::string> grub_eval_argv(const std::vector<std::string>& files) {
    std::vector<std::string> argv = {"/bin/sh", "-c", kEvalScript, "ccbake-grub-defaults"};
    argv.insert(argv.end(), files.begin(), files.end());
    return argv;
}

std::map<std::string, std::string> parse_grub_eval(const std::string& output) {
    std::map<std::string, std::string> out;
    for (const auto& line : util::split(output, '\n')) {
        if (!util::starts_with(line, kMarker)) continue;
        std::string rest = line.substr(std::string(kMarker).size());
        size_t eq = rest.find('=');
        if (eq != std::string::npos) out[rest.substr(0, eq)] = rest.substr(eq + 1);
    }
    return out;
}

std::string render_grub_dropin(const std::vector<std::string>& args, bool boot_with_initrd) {
    std::string value;
    for (char c : util::join(args, " ")) {
        if (c == '"' || c == '\\' || c == '$' || c == '`') value += '\\';
        value += c;
    }
    return "# Written by ccbake: the kernel command line this image's recipe asks for.\n"
           "# Read after 50-cloudimg-settings.cfg, so it is the value grub uses.\n"
           "GRUB_CMDLINE_LINUX_DEFAULT=\"" +
           value + "\"\n" +
           (boot_with_initrd
                ? "# The image asks for an initrd-less boot by PARTUUID (GRUB_FORCE_PARTUUID), "
                  "whose\n"
                  "# fallback reboots on panic (panic=-1): a TDX guest does not survive that, and "
                  "the\n"
                  "# NVIDIA modules and LKCA softdeps are in the initramfs. Boot with it.\n"
                  "GRUB_FORCE_PARTUUID=\n"
                : "");
}

std::vector<LinuxEntry> grub_linux_entries(const std::string& grub_cfg) {
    std::vector<LinuxEntry> out;
    std::vector<std::string> titles; // menuentry/submenu nesting
    int n = 0;
    for (const auto& raw : util::split(grub_cfg, '\n')) {
        ++n;
        std::string line = util::trim(raw);
        if (util::starts_with(line, "menuentry ") || util::starts_with(line, "submenu ")) {
            size_t q = line.find_first_of("'\"");
            size_t e = q == std::string::npos ? q : line.find(line[q], q + 1);
            titles.push_back(q == std::string::npos || e == std::string::npos
                                 ? line
                                 : line.substr(q + 1, e - q - 1));
            continue;
        }
        if (!line.empty() && line.back() == '{') { // function bodies and other blocks
            titles.push_back(titles.empty() ? "" : titles.back());
            continue;
        }
        if (line == "}" && !titles.empty()) {
            titles.pop_back();
            continue;
        }
        if (!util::starts_with(line, "linux ") && !util::starts_with(line, "linux\t") &&
            !util::starts_with(line, "linuxefi "))
            continue;
        auto words = config::split_cmdline(line);
        LinuxEntry entry;
        entry.title = titles.empty() ? "" : titles.back();
        entry.recovery = entry.title.find("recovery mode") != std::string::npos;
        entry.line = n;
        if (words.size() > 2) entry.args.assign(words.begin() + 2, words.end());
        out.push_back(entry);
    }
    return out;
}

} // namespace ccbake::config
