#pragma once
// Fuzz targets: each takes one input no one wrote by hand and feeds it to a parser of
// untrusted data. A target returns normally when the input is accepted or refused with
// ccbake::Error (a clear message to the user); anything else - a sanitizer report, another
// exception, a broken invariant (fuzz_assert) - aborts, and the fuzzer keeps the input.
// Built into libFuzzer binaries (libfuzzer_main.cpp, clang) and into one replay binary
// (replay_main.cpp, any compiler) that runs the regression corpus in the normal test run.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace ccbake::fuzz {

struct Target {
    const char* name;
    const char* what; // the parser it feeds
    int (*run)(const std::uint8_t* data, std::size_t size);
};

const std::vector<Target>& targets();
const Target* find_target(std::string_view name);

} // namespace ccbake::fuzz
