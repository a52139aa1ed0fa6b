#include "image/inspect.h"

#include "target/in_root.h"
#include "util/strings.h"

#include <algorithm>
#include <fstream>
#include <set>

namespace fs = std::filesystem;

namespace ccbake::image {

namespace {

// "6.8.0-45-generic" -> 6 8 0 45: the dotted version, then the package's ABI number.
std::vector<long> leading_numbers(const std::string& v) {
    std::vector<long> out;
    size_t i = 0;
    while (i < v.size() && out.size() < 5) {
        if (!std::isdigit(static_cast<unsigned char>(v[i]))) break;
        long n = 0;
        while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i])))
            n = n * 10 + (v[i++] - '0');
        out.push_back(n);
        if (i + 1 < v.size() && (v[i] == '.' || v[i] == '-') &&
            std::isdigit(static_cast<unsigned char>(v[i + 1])))
            ++i;
        else
            break;
    }
    return out;
}

} // namespace

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

std::vector<std::string> installed_kernels(const fs::path& root) {
    std::set<std::string> found;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(target::resolve_in_root(root, "/boot", true), ec)) {
        std::string n = e.path().filename().string();
        if (util::starts_with(n, "vmlinuz-") && n.size() > 8) found.insert(n.substr(8));
    }
    for (const char* dir : {"/lib/modules", "/usr/lib/modules"})
        for (const auto& e : fs::directory_iterator(target::resolve_in_root(root, dir, true), ec))
            if (e.is_directory() && fs::exists(e.path() / "modules.order"))
                found.insert(e.path().filename().string());
    return {found.begin(), found.end()};
}

int compare_kernel_versions(const std::string& a, const std::string& b) {
    auto x = leading_numbers(a), y = leading_numbers(b);
    size_t n = std::max(x.size(), y.size());
    x.resize(n, 0);
    y.resize(n, 0);
    for (size_t i = 0; i < n; ++i)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

std::optional<std::string> newest_kernel_at_least(const std::vector<std::string>& kernels,
                                                  const std::string& minimum) {
    std::optional<std::string> best;
    for (const auto& k : kernels)
        if (compare_kernel_versions(k, minimum) >= 0 &&
            (!best || compare_kernel_versions(k, *best) > 0))
            best = k;
    return best;
}

} // namespace ccbake::image
