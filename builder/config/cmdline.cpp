#include "config/cmdline.h"

#include "config/grub_defaults.h"
#include "util/strings.h"

#include <algorithm>
#include <fmt/format.h>
#include <set>

namespace ccbake::config {

std::uint64_t swiotlb_slabs(std::uint64_t bytes) {
    return bytes / 2048;
}

std::vector<std::string> split_cmdline(const std::string& line) {
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false, any = false;
    for (char c : line) {
        if (c == '"') {
            quoted = !quoted;
            cur += c;
            any = true;
        } else if (!quoted && std::isspace(static_cast<unsigned char>(c))) {
            if (any) out.push_back(cur);
            cur.clear();
            any = false;
        } else {
            cur += c;
            any = true;
        }
    }
    if (any) out.push_back(cur);
    return out;
}

namespace {
std::string key_of(const std::string& arg) {
    return arg.substr(0, arg.find('='));
}
} // namespace

std::vector<std::string> merge_cmdline(const std::vector<std::string>& existing,
                                       const std::vector<std::string>& add,
                                       const std::vector<std::string>& remove) {
    std::vector<std::string> out;
    for (const auto& arg : existing) {
        bool dropped = std::any_of(remove.begin(), remove.end(), [&](const std::string& r) {
            return r == arg || (r.find('=') == std::string::npos && key_of(arg) == r);
        });
        if (!dropped && std::find(out.begin(), out.end(), arg) == out.end()) out.push_back(arg);
    }
    for (const auto& arg : add) {
        if (std::find(out.begin(), out.end(), arg) != out.end()) continue;
        // Keys that may legitimately repeat (console=) are appended; others replace.
        bool repeatable = key_of(arg) == "console";
        auto same = repeatable ? out.end()
                               : std::find_if(out.begin(), out.end(), [&](const std::string& o) {
                                     return key_of(o) == key_of(arg);
                                 });
        if (same != out.end())
            *same = arg;
        else
            out.push_back(arg);
    }
    return out;
}

std::vector<std::string> grub_cfg_problems(const std::string& grub_cfg,
                                           const std::vector<std::string>& required,
                                           const std::vector<std::string>& removed) {
    std::vector<std::string> out;
    auto entries = config::grub_linux_entries(grub_cfg);
    if (entries.empty())
        out.push_back("it has no Linux entry (is a kernel installed in the image?)");
    for (const auto& e : entries) {
        std::string where = fmt::format("line {} ('{}')", e.line, e.title);
        auto root = std::find_if(e.args.begin(), e.args.end(), [](const std::string& a) {
            return util::starts_with(a, "root=");
        });
        if (root == e.args.end())
            out.push_back(where + " has no root=");
        else if (!util::starts_with(*root, "root=UUID="))
            out.push_back(fmt::format("{} has {}, not root=UUID=...", where, *root));
        for (const auto& a : e.args)
            if (a.find("/dev/loop") != std::string::npos)
                out.push_back(fmt::format(
                    "{} names a loop device ({}): the image would not boot elsewhere", where, a));
        if (e.recovery) continue;
        for (const auto& r : required)
            if (std::find(e.args.begin(), e.args.end(), r) == e.args.end())
                out.push_back(fmt::format("{} lacks {}", where, r));
        for (const auto& r : removed)
            for (const auto& a : e.args)
                if (a == r || (r.find('=') == std::string::npos && key_of(a) == r))
                    out.push_back(fmt::format("{} still has {}", where, a));
    }
    return out;
}

} // namespace ccbake::config
