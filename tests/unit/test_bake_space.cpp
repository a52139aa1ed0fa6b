// The space estimate: its per-kind allowances are the ones docs/bake.md lists, for every step
// kind; a refusal names each step's share and a disk size that covers what is missing.
#include "bake/space.h"
#include "schema_step.h"
#include "steps/step.h"
#include "util/error.h"

#include <doctest/doctest.h>
#include <fstream>
#include <map>
#include <regex>

using namespace ccbake;

TEST_CASE("docs/bake.md lists the allowance of every step kind, as the code has it") {
    std::ifstream in(std::string(CCBAKE_SOURCE_DIR) + "/docs/bake.md");
    std::string line;
    std::map<std::string, std::uint64_t> documented;
    static const std::regex row(R"(^\| `([a-z_]+)` \| (\d+) (MiB|GiB))");
    std::smatch m;
    while (std::getline(in, line))
        if (std::regex_search(line, m, row))
            documented[m[1].str()] = std::stoull(m[2].str()) << (m[3].str() == "GiB" ? 30 : 20);
    for (const auto* k : steps::all_kinds()) {
        INFO(k->name);
        REQUIRE(documented.count(k->name) == 1);
        CHECK(documented[k->name] == bake::kind_allowance(k->name));
    }
}

TEST_CASE("the estimate counts allowances and artifacts; a refusal asks for enough") {
    recipe::Recipe r;
    r.artifacts.push_back({"drv", "http://x/drv.run", {}, "", "", 100u << 20, "drv.run", {}});
    auto driver = testing::schema_step("nvidia_driver",
                                       {{"artifact", "drv"}, {"version", "570.195.03"}}, "driver");
    auto kernel = testing::schema_step("kernel", nlohmann::json::object(), "kernel");
    auto e = bake::estimate_space(r, {&driver, &kernel}, true);
    // 512 MiB + 2 x 100 MiB, the kernel's headers, and apt's lists.
    CHECK(e.bytes == (512ull << 20) + (200ull << 20) + bake::kKernelHeadersAllowance +
                         bake::kAptListsAllowance);
    CHECK(bake::estimate_space(r, {&kernel}, false).bytes ==
          (1ull << 30) + bake::kAptListsAllowance);
    CHECK_NOTHROW(bake::check_space(e, e.bytes, 2ull << 30, "img"));
    try {
        bake::check_space(e, 200ull << 20, 2252ull << 20, "jammy.img");
        FAIL("no refusal");
    } catch (const Error& err) {
        CHECK(err.exit_code() == kExitPreflight);
        CHECK(std::string(err.what()).find("200.0 MiB free") != std::string::npos);
        // 2.2 GiB disk + ~1.1 GiB missing + overhead -> 4 GiB.
        CHECK(err.hint().find("--disk-size 4GiB") != std::string::npos);
        CHECK(err.context().front().find("driver (nvidia_driver)") != std::string::npos);
    }
}
