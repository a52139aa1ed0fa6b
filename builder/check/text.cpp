#include "check/text.h"

#include <algorithm>
#include <cctype>

namespace ccbake::check {

std::vector<std::string> lines_of(std::string_view text) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        std::string line(text.substr(start, end - start));
        if (!line.empty() && line.back() == '\r') line.pop_back();
        out.push_back(std::move(line));
        start = end + 1;
    }
    return out;
}

bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

std::string value_after(std::string_view text, std::string_view key) {
    for (const auto& line : lines_of(text)) {
        auto colon = line.find(':');
        if (colon != std::string::npos && trim(line.substr(0, colon)) == key)
            return trim(line.substr(colon + 1));
    }
    return {};
}

std::string last_line(std::string_view text) {
    auto lines = lines_of(text);
    for (auto it = lines.rbegin(); it != lines.rend(); ++it)
        if (!trim(*it).empty()) return trim(*it);
    return {};
}

std::string tail_lines(std::string_view text, size_t n) {
    auto lines = lines_of(text);
    std::string out;
    for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i)
        out += lines[i] + "\n";
    return out;
}

} // namespace ccbake::check
