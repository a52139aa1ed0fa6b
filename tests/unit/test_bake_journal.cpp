#include "bake/journal.h"
#include "bake/manifest.h"
#include "bake/postcheck.h"
#include "util/error.h"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>

using namespace ccbake::bake;
namespace fs = std::filesystem;

namespace {
ccbake::recipe::Step step(const std::string& name, const std::string& hash) {
    ccbake::recipe::Step s;
    s.kind = "file";
    s.name = name;
    s.hash = hash;
    return s;
}
struct TempRoot {
    fs::path p = fs::temp_directory_path() / "ccbake-test-bake-root";
    TempRoot() {
        fs::remove_all(p);
        fs::create_directories(p / "etc");
    }
    ~TempRoot() { fs::remove_all(p); }
};
} // namespace

TEST_CASE("the journal skips the unchanged leading steps and re-applies from the first change") {
    Journal j{"r", {{"a", "file", "h1", {}}, {"b", "file", "h2", {}}, {"c", "file", "h3", {}}}};
    CHECK(applied_prefix(j, {step("a", "h1"), step("b", "h2"), step("c", "h3")}) == 3);
    CHECK(applied_prefix(j, {step("a", "h1"), step("b", "CHANGED"), step("c", "h3")}) == 1);
    CHECK(applied_prefix(j, {step("a", "h1"), step("b", "h2"), step("c", "h3"), step("d", "h4")}) ==
          3);
    CHECK(applied_prefix(Journal{}, {step("a", "h1")}) == 0);
}

TEST_CASE("the journal round-trips inside the root, and a damaged one is an error with a way out") {
    TempRoot root;
    CHECK(read_journal(root.p).steps.empty());
    write_journal(root.p, {"recipe", {{"a", "file", "h1", {"wrote /etc/motd"}}}});
    Journal back = read_journal(root.p);
    REQUIRE(back.steps.size() == 1);
    CHECK(back.steps[0].changes == std::vector<std::string>{"wrote /etc/motd"});
    std::ofstream(root.p / "var/lib/ccbake/journal.json") << "{ not json";
    CHECK_THROWS_WITH_AS(read_journal(root.p), doctest::Contains("journal"), ccbake::Error);
}

TEST_CASE(
    "post-checks refuse a grub.cfg naming a loop device, a machine-id, and ccbake's helpers") {
    TempRoot root;
    ccbake::recipe::Recipe r;
    CHECK(post_check_problems(root.p, r, {}).empty());
    fs::create_directories(root.p / "boot/grub");
    std::ofstream(root.p / "boot/grub/grub.cfg") << "linux /vmlinuz root=/dev/loop0p2 ro\n";
    std::ofstream(root.p / "etc/machine-id") << "0123456789abcdef0123456789abcdef\n";
    fs::create_directories(root.p / "usr/sbin");
    std::ofstream(root.p / "usr/sbin/policy-rc.d")
        << "#!/bin/sh\n# Written by ccbake while baking\nexit 101\n";
    std::ofstream(root.p / "etc/resolv.conf.ccbake-orig") << "";
    auto problems = post_check_problems(root.p, r, {});
    REQUIRE(problems.size() == 4);
    CHECK(problems[0].find("/boot/grub/grub.cfg:1 names the bake's loop device") !=
          std::string::npos);
    CHECK(problems[1].find("/etc/machine-id is set") != std::string::npos);
    CHECK(problems[2].find("policy-rc.d") != std::string::npos);
    CHECK(problems[3].find("resolv.conf.ccbake-orig") != std::string::npos);
}

TEST_CASE("the manifest's creation time honours SOURCE_DATE_EPOCH") {
    ::setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
    CHECK(creation_time() == "2023-11-14T22:13:20Z");
    ::setenv("SOURCE_DATE_EPOCH", "yesterday", 1);
    CHECK_THROWS_AS(creation_time(), ccbake::UsageError);
    ::unsetenv("SOURCE_DATE_EPOCH");
}
