#include "config/cmdline.h"
#include "util/size.h"

#include <doctest/doctest.h>

using ccbake::util::parse_size;

TEST_CASE("sizes parse with binary units") {
    CHECK(*parse_size("4GiB").bytes == 4ull << 30);
    CHECK(*parse_size("4G").bytes == 4ull << 30);
    CHECK(*parse_size("512MiB").bytes == 512ull << 20);
    CHECK(*parse_size(" 1024 ").bytes == 1024);
    CHECK(*parse_size("1GB").bytes == 1000ull * 1000 * 1000);
}

TEST_CASE("nonsense sizes are refused with a reason") {
    for (const char* bad :
         {"4 gigs", "", "GiB", "-1GiB", "4.5GiB", "99999999999999999999999", "16777216TiB"}) {
        auto r = parse_size(bad);
        CHECK_MESSAGE(!r.bytes, bad);
        CHECK(!r.error.empty());
    }
}

TEST_CASE("swiotlb counts 2 KiB slabs: MiB x 512") {
    CHECK(ccbake::config::swiotlb_slabs(4ull << 30) == 2097152);
    CHECK(ccbake::config::swiotlb_slabs(1ull << 30) == 524288);
}
