#include "config/systemd_units.h"
#include "test_steps_config_fixture.h"

#include <doctest/doctest.h>

using ccbake::testing::StepHarness;
using nlohmann::json;
namespace config = ccbake::config;

namespace {

// The vendor's example unit, Before= under [Install] included.
const char* kVendorPersistenced =
    "[Unit]\nDescription=NVIDIA Persistence Daemon\nAfter=syslog.target\n\n"
    "[Service]\nType=forking\nPIDFile=/var/run/nvidia-persistenced/"
    "nvidia-persistenced.pid\nRestart=always\n"
    "ExecStart=/usr/bin/nvidia-persistenced --verbose\nExecStopPost=/bin/rm -rf "
    "/var/run/nvidia-persistenced/*\n"
    "TimeoutSec=600\n\n[Install]\nWantedBy=multi-user.target\nBefore=nvidia-fabricmanager."
    "service\n";

json spec(json extra) {
    json s = {{"units", json::array()},
              {"ordering", json::array()},
              {"enable", json::array()},
              {"verify", false}};
    s.update(extra);
    return s;
}

// systemctl as the fake target answers it: every unit is "disabled" until enabled.
void fake_systemctl(StepHarness& h, std::vector<std::string>& enabled) {
    h.target.handler = [&](const std::vector<std::string>& argv, const ccbake::util::RunOptions&) {
        ccbake::util::RunResult r{0, false, "", ""};
        if (argv.size() == 3 && argv[1] == "is-enabled") {
            bool on = std::find(enabled.begin(), enabled.end(), argv[2]) != enabled.end();
            r.output = on ? "enabled\n" : "disabled\n";
            r.exit_code = on ? 0 : 1;
        } else if (argv.size() == 3 && argv[1] == "enable") {
            enabled.push_back(argv[2]);
        }
        return r;
    };
}

} // namespace

TEST_CASE("unit merge: fragment by priority, drop-ins by name, empty assignment resets") {
    ccbake::testing::ScratchRoot r;
    r.write("/usr/lib/systemd/system/a.service", "[Unit]\nAfter=x.service y.service\n");
    r.write("/etc/systemd/system/a.service.d/10-one.conf", "[Unit]\nAfter=\nAfter=z.service\n");
    r.write("/usr/lib/systemd/system/a.service.d/10-one.conf", "[Unit]\nBefore=shadowed.service\n");
    r.write("/usr/lib/systemd/system/a.service.d/20-two.conf",
            "[Unit]\nBefore=b.service \\\n  c.service\n");
    auto u = config::load_unit_ordering(r.dir, "a.service");
    CHECK(u.fragment == "/usr/lib/systemd/system/a.service");
    CHECK(u.after == std::set<std::string>{"z.service"});
    CHECK(u.before == std::set<std::string>{"b.service", "c.service"});
    CHECK(u.files.size() == 3);
}

TEST_CASE("unit merge: ordering keys under [Install] are reported, not applied") {
    config::UnitOrdering u;
    config::apply_unit_text(kVendorPersistenced,
                            "/usr/lib/systemd/system/nvidia-persistenced.service", u);
    CHECK(u.before.empty());
    REQUIRE(u.misplaced.size() == 1);
    CHECK(u.misplaced[0].key == "Before");
    CHECK(u.misplaced[0].value == "nvidia-fabricmanager.service");
    CHECK(u.misplaced[0].line == 15);
}

TEST_CASE("systemd: ordering drop-ins in [Unit], enablement once, then nothing to do") {
    StepHarness h;
    std::vector<std::string> enabled;
    fake_systemctl(h, enabled);
    h.root.write("/usr/lib/systemd/system/bcm-agent.service",
                 "[Unit]\nDescription=agent\n[Service]\nExecStart=/bin/true\n");
    json s = spec(
        {{"units",
          {{{"name", "gpu-job.service"},
            {"content",
             "[Unit]\nAfter=nvidia-persistenced.service\n[Service]\nExecStart=/bin/true\n"
             "[Install]\nWantedBy=multi-user.target\n"}}}},
         {"ordering",
          {{{"unit", "bcm-agent.service"}, {"after", {"nvidia-persistenced.service"}}},
           {{"unit", "nvidia-persistenced.service"}, {"before", {"nvidia-fabricmanager.service"}}},
           {{"unit", "bcm-agent.service"}, {"wants", {"nvidia-persistenced.service"}}}}},
         {"enable", {"gpu-job.service"}}});
    auto r = h.apply("systemd", s);
    CHECK(r.changes.size() == 4); // unit, two drop-ins, enable
    CHECK(
        h.root.read("/etc/systemd/system/bcm-agent.service.d/50-ccbake-ordering.conf")
            .find(
                "[Unit]\nAfter=nvidia-persistenced.service\nWants=nvidia-persistenced.service\n") !=
        std::string::npos);
    auto p = config::load_unit_ordering(h.root.dir, "nvidia-persistenced.service");
    CHECK(p.before.count("nvidia-fabricmanager.service"));
    CHECK(enabled == std::vector<std::string>{"gpu-job.service"});
    CHECK(h.apply("systemd", s).changes.empty());
}

TEST_CASE("systemd: the vendor's Before= under [Install] is carried into [Unit] by the drop-in") {
    StepHarness h;
    std::vector<std::string> enabled;
    fake_systemctl(h, enabled);
    h.root.write("/usr/lib/systemd/system/nvidia-persistenced.service", kVendorPersistenced);
    json s = spec(
        {{"ordering", {{{"unit", "nvidia-persistenced.service"}, {"after", {"syslog.target"}}}}}});
    auto r = h.apply("systemd", s);
    REQUIRE(r.changes.size() == 2);
    CHECK(
        r.changes[1] ==
        "nvidia-persistenced.service: Before=nvidia-fabricmanager.service was under [Install] of "
        "/usr/lib/systemd/system/nvidia-persistenced.service (line 15), where systemd ignores it");
    std::string dropin =
        h.root.read("/etc/systemd/system/nvidia-persistenced.service.d/50-ccbake-ordering.conf");
    CHECK(dropin.find("Before=nvidia-fabricmanager.service was under [Install]") !=
          std::string::npos);
    auto p = config::load_unit_ordering(h.root.dir, "nvidia-persistenced.service");
    CHECK(p.before.count("nvidia-fabricmanager.service"));
    CHECK(h.apply("systemd", s).changes.empty());
}

TEST_CASE("systemd: when the recipe orders the other way, the recipe wins over the misplaced key") {
    StepHarness h;
    std::vector<std::string> enabled;
    fake_systemctl(h, enabled);
    h.root.write("/usr/lib/systemd/system/nvidia-persistenced.service", kVendorPersistenced);
    // NVIDIA's own guest init: fabric manager first.
    json s = spec({{"ordering",
                    {{{"unit", "nvidia-persistenced.service"},
                      {"after", {"nvidia-fabricmanager.service"}}}}}});
    h.apply("systemd", s);
    auto p = config::load_unit_ordering(h.root.dir, "nvidia-persistenced.service");
    CHECK(p.after.count("nvidia-fabricmanager.service"));
    CHECK(p.before.empty());
    CHECK(h.root.read("/etc/systemd/system/nvidia-persistenced.service.d/50-ccbake-ordering.conf")
              .find("not carried over") != std::string::npos);
}

TEST_CASE("systemd: a drop-in that resets the order is caught; a static unit cannot be enabled") {
    StepHarness h;
    std::vector<std::string> enabled;
    fake_systemctl(h, enabled);
    h.root.write("/etc/systemd/system/a.service.d/60-reset.conf", "[Unit]\nAfter=\n");
    CHECK_THROWS_WITH(
        h.apply("systemd",
                spec({{"ordering", {{{"unit", "a.service"}, {"after", {"b.service"}}}}}})),
        doctest::Contains("systemd would not start b.service before a.service"));
    h.target.handler = [](const std::vector<std::string>&, const ccbake::util::RunOptions&) {
        return ccbake::util::RunResult{0, false, "static\n", ""};
    };
    CHECK_THROWS_WITH(h.apply("systemd", spec({{"enable", {"x.service"}}})),
                      doctest::Contains("it is static"));
}

TEST_CASE("systemd: verify warnings fail the step even though systemd-analyze exits 0") {
    StepHarness h;
    h.target.handler = [](const std::vector<std::string>& argv, const ccbake::util::RunOptions&) {
        ccbake::util::RunResult r{0, false, "", ""};
        if (argv[0] == "systemd-analyze")
            r.output = "/etc/systemd/system/x.service:3: Unknown key name 'ExecStrat' in section "
                       "'Service', ignoring.\n";
        return r;
    };
    json s = spec(
        {{"units",
          {{{"name", "x.service"}, {"content", "[Service]\nExecStart=/bin/true\nExecStrat=/x\n"}}}},
         {"verify", true}});
    CHECK_THROWS_WITH(h.apply("systemd", s), doctest::Contains("Unknown key name 'ExecStrat'"));
}

TEST_CASE("modprobe: the file, then the initramfs of each kernel, only when the file changed") {
    StepHarness h;
    h.root.write("/usr/sbin/update-initramfs", "");
    for (const char* k : {"6.8.0-1-generic", "6.1.0-2-old"}) { // an installed kernel each
        h.root.write(std::string("/boot/vmlinuz-") + k, "");
        h.root.write(std::string("/lib/modules/") + k + "/modules.order", "");
    }
    h.root.write("/boot/initrd.img-6.1.0-2-old-unrelated", ""); // 6.1.0-2-old has none
    h.root.write("/boot/initrd.img-6.8.0-1-generic", "");
    json s = {{"file", "nvidia-lkca.conf"},
              {"softdeps", {{{"module", "nvidia"}, {"pre", {"ecdsa_generic", "ecdh"}}}}},
              {"blacklist", json::array()},
              {"options", json::object()},
              {"load", json::array()}};
    auto r = h.apply("modprobe", s);
    CHECK(h.root.read("/etc/modprobe.d/nvidia-lkca.conf")
              .find("softdep nvidia pre: ecdsa_generic ecdh\n") != std::string::npos);
    REQUIRE(h.target.calls.size() == 1);
    CHECK(h.target.calls[0] ==
          std::vector<std::string>{"update-initramfs", "-u", "-k", "6.8.0-1-generic"});
    CHECK(r.changes.size() == 2);
    CHECK(h.apply("modprobe", s).changes.empty());
    CHECK(h.target.calls.size() == 1);
}
