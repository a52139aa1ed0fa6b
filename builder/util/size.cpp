#include "util/size.h"

#include "util/strings.h"

#include <cctype>
#include <limits>

namespace ccbake::util {

SizeParse parse_size(std::string_view text) {
    std::string s = trim(text);
    if (s.empty()) return {std::nullopt, "empty size"};
    size_t i = 0;
    std::uint64_t number = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
        std::uint64_t digit = static_cast<std::uint64_t>(s[i] - '0');
        if (number > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
            return {std::nullopt, "size is too large"};
        number = number * 10 + digit;
        ++i;
    }
    if (i == 0) return {std::nullopt, "a size starts with a whole number, e.g. 4GiB"};
    std::string unit = to_lower(trim(std::string_view(s).substr(i)));
    struct Unit {
        const char* name;
        std::uint64_t factor;
    };
    static const Unit units[] = {
        {"", 1},
        {"b", 1},
        {"k", 1ull << 10},
        {"kib", 1ull << 10},
        {"kb", 1000ull},
        {"m", 1ull << 20},
        {"mib", 1ull << 20},
        {"mb", 1000ull * 1000},
        {"g", 1ull << 30},
        {"gib", 1ull << 30},
        {"gb", 1000ull * 1000 * 1000},
        {"t", 1ull << 40},
        {"tib", 1ull << 40},
        {"tb", 1000ull * 1000 * 1000 * 1000},
    };
    for (const auto& u : units) {
        if (unit == u.name) {
            if (number > std::numeric_limits<std::uint64_t>::max() / u.factor)
                return {std::nullopt, "size is too large"};
            return {number * u.factor, {}};
        }
    }
    return {std::nullopt, "unknown size unit '" + unit + "' (use B, KiB, MiB, GiB or TiB)"};
}

} // namespace ccbake::util
