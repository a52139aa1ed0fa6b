#pragma once
// Small string helpers with no ccbake-specific knowledge.
#include <string>
#include <string_view>
#include <vector>

namespace ccbake::util {

std::string trim(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
bool starts_with(std::string_view s, std::string_view prefix);
bool is_hex(std::string_view s);
std::string to_lower(std::string_view s);
// Levenshtein distance, for "did you mean" suggestions.
size_t edit_distance(std::string_view a, std::string_view b);
// The candidate closest to `word`, or "" when none is close enough to suggest.
std::string closest(std::string_view word, const std::vector<std::string>& candidates);
// Length of the UTF-8 sequence at s[at] (1 for ASCII), or 0 when it is not valid UTF-8 as
// RFC 3629 defines it (no overlong forms, surrogates or code points above U+10FFFF), which is
// also what nlohmann::json accepts.
size_t utf8_sequence_length(std::string_view s, size_t at);
// Human-readable byte count: "1.5 GiB".
std::string human_bytes(unsigned long long bytes);

} // namespace ccbake::util
