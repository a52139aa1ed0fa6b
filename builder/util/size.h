#pragma once
// Parses human sizes ("4GiB", "512MiB", "2G", "1048576") into bytes.
// Binary units (KiB/MiB/GiB/TiB, and K/M/G/T as their shorthand); decimal KB/MB/GB
// are accepted as powers of 1000. Returns std::nullopt with a reason for anything else.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ccbake::util {

struct SizeParse {
    std::optional<std::uint64_t> bytes;
    std::string error; // set when bytes is empty
};

SizeParse parse_size(std::string_view text);

} // namespace ccbake::util
