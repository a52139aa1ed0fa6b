#pragma once
// String helpers for the checker's parsers of tool output; the general ones are util's (the
// checker is linked from its own sources and the few util files it names in CMakeLists.txt).
#include "util/strings.h"

#include <string>
#include <string_view>
#include <vector>

namespace ccbake::check {

std::vector<std::string> lines_of(std::string_view text); // without "\r\n"/"\n"
using util::trim;
inline std::string lower(std::string_view s) {
    return util::to_lower(s);
}
bool contains(std::string_view haystack, std::string_view needle);
// The trimmed value after "KEY:" (or "KEY :") on the first line whose trimmed key is `key`.
std::string value_after(std::string_view text, std::string_view key);
// The last non-empty line of `text` (for evidence when a tool prints nothing we recognise).
std::string last_line(std::string_view text);
// The last `n` lines of `text`, for a report's details.
std::string tail_lines(std::string_view text, size_t n);

} // namespace ccbake::check
