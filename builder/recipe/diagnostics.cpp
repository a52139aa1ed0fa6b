#include "recipe/diagnostics.h"

#include "util/strings.h"

#include <algorithm>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <tuple>

namespace ccbake::recipe {

void Diagnostics::error(const Location& where, std::string message, std::string note) {
    for (const auto& d : list_) // the same problem reached twice (e.g. through two includes)
        if (d.where.file == where.file && d.where.line == where.line &&
            d.where.column == where.column && d.message == message)
            return;
    list_.push_back({where, std::move(message), std::move(note)});
}

namespace {

std::string source_line(const std::string& file, int line) {
    static std::map<std::string, std::vector<std::string>> cache;
    auto it = cache.find(file);
    if (it == cache.end()) {
        std::vector<std::string> lines;
        std::ifstream in(file, std::ios::binary);
        std::string l;
        while (std::getline(in, l))
            lines.push_back(l);
        it = cache.emplace(file, std::move(lines)).first;
    }
    if (line < 1 || static_cast<size_t>(line) > it->second.size()) return {};
    return it->second[static_cast<size_t>(line - 1)];
}

// Printable version of a source line: control bytes and non-text shown as '?', tabs kept
// as single spaces so the caret lines up.
std::string printable(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '\t')
            out += ' ';
        else if (c == '\r')
            continue;
        else if (c < 0x20 || c == 0x7f)
            out += '?';
        else if (c < 0x80)
            out += static_cast<char>(c);
        else if (size_t n = util::utf8_sequence_length(s, i)) {
            out.append(s, i, n); // one character, one column
            i += n - 1;
        } else {
            out += '?';
        }
    }
    return out.size() > 200 ? out.substr(0, 200) + "..." : out;
}

} // namespace

std::string Diagnostics::render() const {
    auto sorted = list_;
    std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
        return std::tie(a.where.file, a.where.line, a.where.column) <
               std::tie(b.where.file, b.where.line, b.where.column);
    });
    std::string out;
    for (const auto& d : sorted) {
        if (d.where.line > 0)
            out += fmt::format("{}:{}:{}: error: {}\n", d.where.file, d.where.line,
                               std::max(1, d.where.column), d.message);
        else
            out += fmt::format("{}: error: {}\n", d.where.file, d.message);
        std::string src = d.where.line > 0 ? source_line(d.where.file, d.where.line) : "";
        if (!src.empty()) {
            out += "    " + printable(src) + "\n";
            out += "    " + std::string(static_cast<size_t>(std::max(0, d.where.column - 1)), ' ') +
                   "^\n";
        }
        if (!d.note.empty()) out += "    note: " + d.note + "\n";
    }
    return out;
}

} // namespace ccbake::recipe
