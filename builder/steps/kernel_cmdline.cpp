// kernel_cmdline: the arguments grub passes to Linux, written as a grub.d drop-in that wins
// over Ubuntu's 50-cloudimg-settings.cfg, with swiotlb computed from a size.
#include "steps/kernel_cmdline.h"

#include <algorithm>
#include <fmt/format.h>

#include "steps/kinds.h"
#include "util/strings.h"

namespace ccbake::steps {

using recipe::FieldType;

std::uint64_t swiotlb_slabs(std::uint64_t bytes) { return bytes / 2048; }

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
std::string key_of(const std::string& arg) { return arg.substr(0, arg.find('=')); }
}  // namespace

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
        auto same = repeatable ? out.end() : std::find_if(out.begin(), out.end(), [&](const std::string& o) {
            return key_of(o) == key_of(arg);
        });
        if (same != out.end()) *same = arg;
        else out.push_back(arg);
    }
    return out;
}

const StepKind& kernel_cmdline_kind() {
    static const StepKind kind{
        "kernel_cmdline",
        "Set the kernel command line through a grub drop-in, swiotlb from a size.",
        "Writes `GRUB_CMDLINE_LINUX_DEFAULT` to `/etc/default/grub.d/DROPIN`; the default "
        "`99-ccbake.cfg` sorts after Ubuntu's `50-cloudimg-settings.cfg`, which otherwise silently "
        "overrides an edit of `/etc/default/grub`. The value starts from what the image's files "
        "give, removes `remove`, applies `add` without duplicates and sets `swiotlb=` to the size "
        "in 2 KiB slabs (MiB x 512: 4GiB -> 2097152). The effective value is proven by sourcing "
        "grub's files in grub's order, then `update-grub` runs and every Linux entry of grub.cfg "
        "is checked to carry the arguments and a root=UUID.",
        {
            {"swiotlb", FieldType::Size, false, {}, "Bounce buffer size, e.g. 4GiB (platform default 1GiB)."},
            {"add", FieldType::StringList, false, nlohmann::json::array(), "Arguments to add or replace."},
            {"remove", FieldType::StringList, false, nlohmann::json::array(),
             "Arguments to remove; a bare key removes every key=value."},
            {"dropin", FieldType::String, false, "99-ccbake.cfg", "File name under /etc/default/grub.d/."},
            {"update_grub", FieldType::Bool, false, true, "Run update-grub and check grub.cfg."},
        },
        "kernel_cmdline:\n  swiotlb: 4GiB\n  add: [console=ttyS0, iommu=pt]\n",
        [](const recipe::Step& s, const recipe::Recipe&, const FieldLoc& loc, recipe::Diagnostics& d) {
            if (s.spec.contains("swiotlb")) {
                std::uint64_t bytes = s.spec["swiotlb"].get<std::uint64_t>();
                if (bytes < (64ull << 20) || bytes > (64ull << 30))
                    d.error(loc("swiotlb"),
                            fmt::format("swiotlb of {} makes no sense", util::human_bytes(bytes)),
                            "the bounce buffer is between 64MiB and 64GiB (platform default 1GiB)");
                else if (bytes % (1ull << 20))
                    d.error(loc("swiotlb"), "swiotlb must be a whole number of MiB",
                            "the kernel counts 2 KiB slabs: MiB x 512");
            }
            for (const auto& list : {"add", "remove"})
                for (const auto& a : texts(s.spec, list)) {
                    if (a.empty() || a.find_first_of(" \t\n'\\$`") != std::string::npos)
                        d.error(loc(list), fmt::format("'{}' is not a single kernel argument", a),
                                "list each argument separately, without spaces or quotes");
                    if (s.spec.contains("swiotlb") && util::starts_with(a, "swiotlb"))
                        d.error(loc(list), "swiotlb is set by the 'swiotlb' size field",
                                "remove it from this list");
                }
            if (text(s.spec, "dropin").find('/') != std::string::npos || text(s.spec, "dropin").size() < 5 ||
                text(s.spec, "dropin").substr(text(s.spec, "dropin").size() - 4) != ".cfg")
                d.error(loc("dropin"), "'dropin' must be a file name ending in .cfg",
                        "grub only reads /etc/default/grub.d/*.cfg");
            else if (text(s.spec, "dropin") < "50-cloudimg-settings.cfg")
                d.error(loc("dropin"),
                        fmt::format("{} sorts before 50-cloudimg-settings.cfg, which would override it",
                                    text(s.spec, "dropin")),
                        "name it 99-....cfg so it is read last");
        },
        [](const recipe::Step& s, const recipe::Recipe&) {
            std::vector<std::string> args = texts(s.spec, "add");
            std::vector<std::string> out;
            if (s.spec.contains("swiotlb")) {
                std::uint64_t bytes = s.spec["swiotlb"].get<std::uint64_t>();
                args.push_back(fmt::format("swiotlb={}", swiotlb_slabs(bytes)));
                out.push_back(fmt::format("swiotlb={} ({} = {} MiB x 512 slabs of 2 KiB)", swiotlb_slabs(bytes),
                                          util::human_bytes(bytes), bytes >> 20));
            }
            out.push_back(fmt::format("/etc/default/grub.d/{}: GRUB_CMDLINE_LINUX_DEFAULT += {}",
                                      text(s.spec, "dropin"), util::join(args, " ")));
            auto removed = texts(s.spec, "remove");
            if (!removed.empty()) out.push_back("remove: " + util::join(removed, " "));
            if (s.spec.value("update_grub", true)) out.push_back("update-grub; check every Linux entry");
            return out;
        },
        {},
    };
    return kind;
}

}  // namespace ccbake::steps
