#include "image/inspect.h"

#include "target/in_root.h"
#include "util/strings.h"

namespace fs = std::filesystem;

namespace ccbake::image {

OsRelease parse_os_release(const std::string& text) {
    OsRelease r;
    for (const auto& raw : util::split(text, '\n')) {
        std::string line = util::trim(raw);
        auto eq = line.find('=');
        if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
        std::string key = line.substr(0, eq), value = line.substr(eq + 1);
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
            value.back() == value.front())
            value = value.substr(1, value.size() - 2);
        if (key == "ID")
            r.id = value;
        else if (key == "VERSION_ID")
            r.version_id = value;
        else if (key == "PRETTY_NAME")
            r.pretty_name = value;
    }
    return r;
}

std::optional<OsRelease> read_os_release(const fs::path& root) {
    for (const char* p : {"/etc/os-release", "/usr/lib/os-release"})
        if (auto text = target::read_in_root(root, p)) return parse_os_release(*text);
    return std::nullopt;
}

} // namespace ccbake::image
