#include "check/config.h"
#include "steps/guest_check.h"
#include "test_steps_config_fixture.h"

#include <doctest/doctest.h>
#include <filesystem>

using ccbake::testing::schema_step;
using ccbake::testing::StepHarness;
namespace fs = std::filesystem;

namespace {

// The rest (timeouts 10m and 5m, the other tools' paths) is the schema's defaults.
nlohmann::json ppcie_spec() {
    return {{"required", {"tdx", "kernel", "gpu", "attest"}},
            {"gpu_mode", "ppcie"},
            {"quote_verify", "/opt/intel/dcap/QuoteVerificationSample/app"}};
}

void with_swiotlb(StepHarness& h, std::uint64_t bytes) {
    h.recipe.steps.push_back(schema_step("kernel_cmdline", {{"swiotlb", bytes}}));
    h.recipe.base.min_kernel = "6.6.0";
}

} // namespace

TEST_CASE("guest_check bakes the checker, its config and an enabled boot unit") {
    StepHarness h;
    with_swiotlb(h, 4ull << 30);
    auto result = h.apply("guest_check", ppcie_spec());
    CHECK(result.changes.size() == 4);

    auto bin = h.root.path(ccbake::steps::kCheckBinary);
    REQUIRE(fs::is_regular_file(bin));
    CHECK((fs::status(bin).permissions() & fs::perms::owner_exec) != fs::perms::none);
    CHECK(fs::file_size(bin) > 100000); // the real static program, copied from beside ccbake_unit

    auto cfg = ccbake::check::config_from_json(
        nlohmann::json::parse(h.root.read(ccbake::steps::kCheckConfig)));
    CHECK(cfg.gpu_mode == "ppcie");
    CHECK(cfg.min_kernel == "6.6.0");
    CHECK(cfg.swiotlb_bytes == 4ull << 30);
    CHECK(cfg.tools.quote_verify == "/opt/intel/dcap/QuoteVerificationSample/app");

    std::string unit = h.root.read("/etc/systemd/system/ccbake-check.service");
    CHECK(unit.find("Wants=nvidia-persistenced.service nvidia-fabricmanager.service\n") !=
          std::string::npos);
    CHECK(unit.find("After=nvidia-persistenced.service nvidia-fabricmanager.service") !=
          std::string::npos);
    CHECK(unit.find("Type=oneshot\n") != std::string::npos);
    CHECK(unit.find("StandardOutput=journal+console\n") != std::string::npos);
    CHECK(unit.find("--write /var/lib/ccbake/check.json") != std::string::npos);
    CHECK(unit.find("TimeoutStartSec=1800\n") != std::string::npos); // 600 + 3 x 300 + 300
    CHECK(unit.find("reboot") == std::string::npos);
    auto link = h.root.path("/etc/systemd/system/multi-user.target.wants/ccbake-check.service");
    REQUIRE(fs::is_symlink(link));
    CHECK(fs::read_symlink(link) == "/etc/systemd/system/ccbake-check.service");

    SUBCASE("applying again changes nothing") {
        CHECK(h.apply("guest_check", ppcie_spec()).changes.empty());
    }
    SUBCASE("a changed setting rewrites only the config and the unit") {
        auto spec = ppcie_spec();
        spec["persistenced_timeout"] = 900;
        CHECK(h.apply("guest_check", spec).changes.size() == 2);
        CHECK(h.root.read("/etc/systemd/system/ccbake-check.service")
                  .find("TimeoutStartSec=2100\n") != std::string::npos);
    }
}

TEST_CASE("guest_check config: no swiotlb in the recipe means none is demanded") {
    StepHarness h;
    CHECK(ccbake::steps::guest_check_config(schema_step("guest_check", ppcie_spec()), h.recipe)
              .swiotlb_bytes == 0);
}
