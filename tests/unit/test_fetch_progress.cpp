#include "fetch/progress.h"

#include <doctest/doctest.h>

using namespace ccbake::fetch;

TEST_CASE("progress lines show rates and ETAs people can read") {
    CHECK(format_eta(0.2) == "0s");
    CHECK(format_eta(59.6) == "1m00s");
    CHECK(format_eta(185) == "3m05s");
    CHECK(format_eta(3 * 3600 + 120) == "3h02m");
    CHECK(format_eta(-1) == "");  // unknown
    CHECK(format_eta(1e9) == ""); // nonsense from a stalled transfer
    CHECK(format_rate(0) == "0 B/s");
    CHECK(format_rate(1.5 * 1024 * 1024).find("MiB/s") != std::string::npos);
}
