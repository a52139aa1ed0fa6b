#pragma once
// Keeps the cache from growing without bound: removes partial downloads no process is
// working on, scratch leftovers and index entries whose file is gone; with a size limit, also
// the least recently used files until the cache fits.
#include "fetch/cache.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ccbake::fetch {

struct GcResult {
    std::vector<std::string> removed; // what was removed, for people ("object SHA (names)")
    std::uint64_t freed = 0;
    std::uint64_t kept = 0; // bytes of objects left
};

GcResult collect_garbage(Cache& cache, std::optional<std::uint64_t> max_size);

} // namespace ccbake::fetch
