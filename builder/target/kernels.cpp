#include "target/kernels.h"

#include "target/files.h"
#include "util/kernel_release.h"
#include "util/strings.h"

#include <algorithm>
#include <cctype>

namespace fs = std::filesystem;

namespace ccbake::target {

namespace {

bool has_modules(const fs::path& root, const std::string& release) {
    const std::string dir = "/lib/modules/" + release;
    return exists(root, dir + "/modules.order") || is_dir(root, dir + "/kernel");
}

} // namespace

std::vector<std::string> installed_kernels(const fs::path& root) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(resolve_in_root(root, "/boot", true), ec)) {
        std::string n = e.path().filename().string();
        if (!util::starts_with(n, "vmlinuz-") || n.size() <= 8) continue;
        std::string release = n.substr(8);
        if (std::isdigit(static_cast<unsigned char>(release[0])) && has_modules(root, release))
            out.push_back(release);
    }
    std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
        int c = util::compare_kernel_releases(a, b);
        return c != 0 ? c > 0 : a > b;
    });
    return out;
}

std::vector<std::string> kernels_at_least(const fs::path& root, const std::string& minimum) {
    std::vector<std::string> out;
    for (const auto& k : installed_kernels(root))
        if (minimum.empty() || util::compare_kernel_releases(k, minimum) >= 0) out.push_back(k);
    return out;
}

} // namespace ccbake::target
