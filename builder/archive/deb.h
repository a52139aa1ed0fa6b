#pragma once
// Reads the control fields of a Debian binary package (.deb) with libarchive: the outer ar
// archive, then control.tar.* in memory. Throws ccbake::Error when the file is not a .deb.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace ccbake::archive {

// Fields of DEBIAN/control, e.g. {"Package": "nvidia-fabricmanager-570", "Version": ...};
// continuation lines are joined to their field with '\n'.
std::map<std::string, std::string> deb_control(const std::filesystem::path& deb);

// Parses control-file text (RFC 822 style, first paragraph only).
std::map<std::string, std::string> parse_control(const std::string& text);
// Every paragraph of such a text (e.g. dpkg's status file), in order.
std::vector<std::map<std::string, std::string>> parse_paragraphs(const std::string& text);

} // namespace ccbake::archive
