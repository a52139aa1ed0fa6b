#include "check/parse_kernel.h"

#include "check/text.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <sstream>

namespace ccbake::check {

std::vector<std::string> kernel_log_lines(const std::string& raw) {
    static const std::regex kmsg(R"(^\d+,\d+,\d+,[^;]*;)");
    static const std::regex stamp(R"(^\[\s*\d+\.\d+\]\s?)");
    std::vector<std::string> out;
    for (const auto& line : lines_of(raw)) {
        if (!line.empty() && line[0] == ' ') continue; // kmsg dictionary continuation
        std::smatch m;
        if (std::regex_search(line, m, kmsg))
            out.push_back(line.substr(m.length(0)));
        else if (std::regex_search(line, m, stamp))
            out.push_back(line.substr(m.length(0)));
        else
            out.push_back(line);
    }
    return out;
}

bool has_cpu_flag(const std::string& cpuinfo, const std::string& flag) {
    for (const auto& line : lines_of(cpuinfo)) {
        auto colon = line.find(':');
        if (colon == std::string::npos || trim(line.substr(0, colon)) != "flags") continue;
        std::istringstream words(line.substr(colon + 1));
        std::string w;
        while (words >> w)
            if (w == flag) return true;
    }
    return false;
}

TdxLog find_tdx_lines(const std::vector<std::string>& log) {
    TdxLog t;
    for (const auto& line : log) {
        std::string l = lower(line);
        if (t.guest_detected.empty() && contains(l, "tdx") && contains(l, "guest detected"))
            t.guest_detected = line;
        if (t.memory_encryption.empty() && contains(l, "memory encryption features active") &&
            contains(l, "tdx"))
            t.memory_encryption = line;
        if (t.idle_routine.empty() &&
            (contains(l, "tdx aware idle") || contains(l, "tdx-aware idle")))
            t.idle_routine = line;
    }
    return t;
}

std::optional<SwiotlbMapped> swiotlb_mapped(const std::vector<std::string>& log) {
    static const std::regex mapped(R"(software IO TLB: mapped \[mem [^\]]*\] \((\d+)MB\))");
    std::optional<SwiotlbMapped> out;
    std::string adjusted;
    for (const auto& line : log) {
        if (contains(line, "software IO TLB") && contains(line, "adjusted")) adjusted = line;
        std::smatch m;
        if (std::regex_search(line, m, mapped)) {
            out = SwiotlbMapped{std::stoull(m[1].str()), line, {}};
        }
    }
    if (out) out->adjusted = adjusted;
    return out;
}

std::optional<std::uint64_t> cmdline_swiotlb_slabs(const std::string& cmdline) {
    std::optional<std::uint64_t> slabs;
    std::istringstream words(cmdline);
    std::string w;
    while (words >> w) {
        if (w.rfind("swiotlb=", 0) != 0) continue;
        std::string v = w.substr(8);
        size_t digits = 0;
        while (digits < v.size() && std::isdigit(static_cast<unsigned char>(v[digits])))
            ++digits;
        if (digits == 0 || digits > 15) continue; // "swiotlb=force" or nonsense: no size
        slabs = std::stoull(v.substr(0, digits));
    }
    return slabs;
}

} // namespace ccbake::check
