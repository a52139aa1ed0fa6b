#include "bake/packages.h"

#include "archive/deb.h"
#include "target/in_root.h"

#include <algorithm>

namespace ccbake::bake {

std::vector<DebPackage> installed_debs(const std::filesystem::path& root) {
    std::vector<DebPackage> out;
    auto status = target::read_in_root(root, "/var/lib/dpkg/status");
    if (!status) return out;
    for (auto& p : archive::parse_paragraphs(*status)) {
        if (p["Status"] != "install ok installed" || p["Package"].empty()) continue;
        std::string source = p["Source"];
        if (auto space = source.find(' '); space != std::string::npos) // "src (1.2-3)"
            source = source.substr(0, space);
        out.push_back({p["Package"], p["Version"], p["Architecture"], source});
    }
    std::sort(out.begin(), out.end(), [](const DebPackage& a, const DebPackage& b) {
        return a.name != b.name ? a.name < b.name : a.architecture < b.architecture;
    });
    return out;
}

} // namespace ccbake::bake
