#include "config/systemd_units.h"

#include "target/files.h"
#include "util/strings.h"

#include <algorithm>
#include <map>

namespace fs = std::filesystem;

namespace ccbake::config {

const std::vector<std::string>& system_unit_paths() {
    static const std::vector<std::string> paths = {
        "/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system",
        "/usr/lib/systemd/system", "/lib/systemd/system"};
    return paths;
}

void apply_unit_text(const std::string& text, const std::string& file, UnitOrdering& into) {
    std::string section;
    int n = 0;
    std::string pending; // a line continued with a trailing backslash
    for (const auto& raw : util::split(text, '\n')) {
        ++n;
        std::string line = util::trim(raw);
        if (!pending.empty()) line = pending + " " + line;
        if (!line.empty() && line.back() == '\\') {
            pending = line.substr(0, line.size() - 1);
            continue;
        }
        pending.clear();
        if (line.empty() || line[0] == '#' || line[0] == ';') continue;
        if (line.front() == '[' && line.back() == ']') {
            section = line.substr(1, line.size() - 2);
            continue;
        }
        size_t eq = line.find('=');
        if (eq == std::string::npos) continue;
        std::string key = util::trim(line.substr(0, eq)), value = util::trim(line.substr(eq + 1));
        std::set<std::string>* list = key == "After"      ? &into.after
                                      : key == "Before"   ? &into.before
                                      : key == "Wants"    ? &into.wants
                                      : key == "Requires" ? &into.requires_
                                                          : nullptr;
        if (!list) continue;
        if (section == "Install") {
            into.misplaced.push_back({file, n, key, value});
            continue;
        }
        if (section != "Unit") continue;
        if (value.empty()) list->clear();
        for (const auto& w : util::split(value, ' '))
            if (!util::trim(w).empty()) list->insert(util::trim(w));
    }
}

UnitOrdering load_unit_ordering(const fs::path& root, const std::string& unit) {
    UnitOrdering u;
    std::vector<std::string> names = {unit};
    // An instance foo@bar.service falls back to the template foo@.service.
    if (size_t at = unit.find('@'), dot = unit.rfind('.'); at != std::string::npos && dot > at + 1)
        names.push_back(unit.substr(0, at + 1) + unit.substr(dot));
    for (const auto& name : names) {
        for (const auto& dir : system_unit_paths()) {
            fs::path p = target::resolve_in_root(root, dir + "/" + name);
            std::error_code ec;
            if (!fs::exists(fs::symlink_status(p, ec))) continue;
            if (fs::is_symlink(fs::symlink_status(p, ec)) &&
                fs::read_symlink(p, ec) == "/dev/null") {
                u.masked = true;
                u.fragment = dir + "/" + name;
                return u;
            }
            fs::path real = target::resolve_in_root(root, dir + "/" + name, true);
            if (!fs::is_regular_file(real, ec)) continue;
            u.fragment = dir + "/" + name;
            if (auto text = target::read_in_root(root, u.fragment))
                apply_unit_text(*text, u.fragment, u);
            u.files.push_back(u.fragment);
            break;
        }
        if (!u.fragment.empty()) break;
    }
    std::map<std::string, std::string> dropins; // file name -> path inside; first directory wins
    for (const auto& name : names)
        for (const auto& dir : system_unit_paths()) {
            std::string d = dir + "/" + name + ".d";
            std::error_code ec;
            for (const auto& e :
                 fs::directory_iterator(target::resolve_in_root(root, d, true), ec)) {
                std::string f = e.path().filename().string();
                if (f.size() > 5 && f.compare(f.size() - 5, 5, ".conf") == 0 && !dropins.count(f))
                    dropins[f] = d + "/" + f;
            }
        }
    for (const auto& [f, inside] : dropins) {
        if (auto text = target::read_in_root(root, inside)) {
            apply_unit_text(*text, inside, u);
            u.files.push_back(inside);
        }
    }
    return u;
}

} // namespace ccbake::config
