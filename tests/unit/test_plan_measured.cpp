#include "plan/measured.h"
#include "steps/step.h"

#include <doctest/doctest.h>

using namespace ccbake;

namespace {

plan::Impact impact(const std::string& kind, nlohmann::json spec = nlohmann::json::object()) {
    recipe::Step s;
    s.kind = kind;
    s.spec = std::move(spec);
    return plan::measured_impact(s);
}

} // namespace

TEST_CASE("plan says which registers each step kind can change") {
    CHECK(impact("kernel_cmdline").registers == std::vector<std::string>{"RTMR2"});
    CHECK(impact("kernel").registers == std::vector<std::string>{"RTMR1", "RTMR2"});
    CHECK(impact("nvidia_driver").registers == std::vector<std::string>{"RTMR2"});
    CHECK(impact("systemd").registers.empty());
    CHECK(impact("file", {{"path", "/etc/motd"}}).registers.empty());
    CHECK(impact("file", {{"path", "/boot/efi/EFI/ubuntu/grub.cfg"}}).registers ==
          std::vector<std::string>{"RTMR1", "RTMR2"});
    CHECK(impact("json_edit", {{"path", "/boot/grub/custom.cfg"}}).registers ==
          std::vector<std::string>{"RTMR2"});
    CHECK(impact("file", {{"path", "/etc/default/grub.d/50-x.cfg"}}).why.find("update-grub") !=
          std::string::npos);
    CHECK(impact("run", {{"argv", {"/usr/sbin/update-grub"}}}).registers ==
          std::vector<std::string>{"RTMR2"});
    CHECK(impact("run", {{"argv", {"grub-install"}}}).registers ==
          std::vector<std::string>{"RTMR1", "RTMR2"});
    CHECK(impact("run", {{"argv", {"touch", "/x"}}}).registers ==
          std::vector<std::string>{"unknown"});
    CHECK(plan::impact_line(impact("systemd")).rfind("none", 0) == 0);
    CHECK(plan::impact_line(impact("kernel_cmdline")).rfind("RTMR2 — ", 0) == 0);
}

TEST_CASE("every step kind has a stated register impact") {
    for (const auto* kind : steps::all_kinds()) {
        CAPTURE(kind->name);
        if (kind->name == "run") continue; // a command's writes are not declared
        CHECK(impact(kind->name, {{"path", "/etc/x"}}).registers !=
              std::vector<std::string>{"unknown"});
    }
    CHECK(impact("no_such_kind").registers == std::vector<std::string>{"unknown"});
}
