// The libFuzzer entry point of one target, chosen at compile time (CCBAKE_FUZZ_TARGET).
#include "targets.h"

#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const ccbake::fuzz::Target* target = [] {
        const auto* t = ccbake::fuzz::find_target(CCBAKE_FUZZ_TARGET);
        if (!t) {
            std::fprintf(stderr, "no fuzz target named %s\n", CCBAKE_FUZZ_TARGET);
            std::abort();
        }
        return t;
    }();
    return target->run(data, size);
}
