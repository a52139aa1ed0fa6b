#include "target/files.h"
#include "test_steps_config_fixture.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

using ccbake::testing::StepHarness;
using nlohmann::json;

namespace {
json file_spec(json extra) {
    json s = {{"path", "/etc/ccbake/motd"}, {"mode", "0644"}, {"owner", "root:root"}};
    s.update(extra);
    return s;
}
struct stat stat_of(const std::filesystem::path& p) {
    struct stat st {};
    ::lstat(p.c_str(), &st);
    return st;
}
} // namespace

TEST_CASE("file: writes content, mode and an owner resolved in the image, then changes nothing") {
    StepHarness h;
    h.root.write("/etc/passwd",
                 "root:x:0:0:root:/root:/bin/sh\nsvc:x:4242:4343::/:/usr/sbin/nologin\n");
    h.root.write("/etc/group", "root:x:0:\nsvcgrp:x:4343:\n");
    auto r = h.apply(
        "file", file_spec({{"content", "hello\n"}, {"mode", "0640"}, {"owner", "svc:svcgrp"}}));
    REQUIRE(r.changes.size() == 1);
    CHECK(h.root.read("/etc/ccbake/motd") == "hello\n");
    auto st = stat_of(h.root.path("/etc/ccbake/motd"));
    CHECK((st.st_mode & 07777) == 0640);
    CHECK(st.st_uid == 4242);
    CHECK(st.st_gid == 4343);
    CHECK(h.apply("file",
                  file_spec({{"content", "hello\n"}, {"mode", "0640"}, {"owner", "svc:svcgrp"}}))
              .changes.empty());
    // Only the mode differs: fixed in place, reported as a mode change.
    auto m = h.apply(
        "file", file_spec({{"content", "hello\n"}, {"mode", "0600"}, {"owner", "svc:svcgrp"}}));
    REQUIRE(m.changes.size() == 1);
    CHECK(m.changes[0].find("mode 0640 -> 0600") != std::string::npos);
    // New content replaces the file atomically; no temporary file is left behind.
    CHECK(h.apply("file", file_spec({{"content", "bye\n"}})).changes.size() == 1);
    CHECK(h.root.read("/etc/ccbake/motd") == "bye\n");
    CHECK(std::distance(std::filesystem::directory_iterator(h.root.path("/etc/ccbake")), {}) == 1);
}

TEST_CASE("file: an owner missing from the image is a clear error, whatever the host has") {
    StepHarness h;
    h.root.write("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
    h.root.write("/etc/group", "root:x:0:\n");
    // "daemon" exists on every host, but not in this image.
    CHECK_THROWS_WITH(h.apply("file", file_spec({{"content", "x"}, {"owner", "daemon:root"}})),
                      doctest::Contains("user 'daemon' does not exist in the image"));
    CHECK_FALSE(std::filesystem::exists(h.root.path("/etc/ccbake/motd")));
}

TEST_CASE("file: an absolute symlink in the image resolves inside the image, not on the host") {
    StepHarness h;
    h.root.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
    h.root.write("/etc/group", "root:x:0:\n");
    std::filesystem::create_directories(h.root.path("/srv/real"));
    std::filesystem::create_symlink("/srv/real", h.root.path("/opt"));
    h.apply("file", {{"path", "/opt/ccbake-unit-test/x.conf"},
                     {"content", "v"},
                     {"mode", "0644"},
                     {"owner", "root:root"}});
    CHECK(h.root.read("/srv/real/ccbake-unit-test/x.conf") == "v");
    CHECK_FALSE(std::filesystem::exists("/srv/real/ccbake-unit-test"));
}

TEST_CASE("file: copies an artifact") {
    StepHarness h;
    h.root.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
    h.root.write("/etc/group", "root:x:0:\n");
    h.root.write("/artifact.bin", std::string(200000, 'z'));
    h.ctx.artifact = [&](const std::string&) { return h.root.path("/artifact.bin"); };
    auto spec = json{
        {"path", "/usr/share/a.bin"}, {"artifact", "a"}, {"mode", "0755"}, {"owner", "root:root"}};
    CHECK(h.apply("file", spec).changes.size() == 1);
    CHECK(h.root.read("/usr/share/a.bin") == std::string(200000, 'z'));
    CHECK(h.apply("file", spec).changes.empty());
}

TEST_CASE("run: argv with env and cwd; network only while it runs; creates marks it done") {
    StepHarness h;
    json spec = {{"argv", {"make", "-C", "x"}},
                 {"env", {{"SGX_DEBUG", "1"}}},
                 {"cwd", "/opt/src"},
                 {"network", true},
                 {"creates", "/opt/done"}};
    h.target.handler = [&](const std::vector<std::string>&, const ccbake::util::RunOptions&) {
        h.root.write("/opt/done", "");
        return ccbake::util::RunResult{0, false, "", ""};
    };
    auto r = h.apply("run", spec);
    REQUIRE(h.target.calls.size() == 1);
    CHECK(h.target.calls[0] == std::vector<std::string>{"make", "-C", "x"});
    CHECK(h.target.options.back().env.at("SGX_DEBUG") == "1");
    CHECK(h.target.options.back().cwd == "/opt/src");
    CHECK(h.target.network_during == std::vector<bool>{true});
    CHECK(h.target.network_toggles == std::vector<bool>{true, false});
    CHECK(r.changes.size() == 1);
    // Marker present: nothing runs, nothing changes.
    CHECK(h.apply("run", spec).changes.empty());
    CHECK(h.target.calls.size() == 1);
}

TEST_CASE(
    "run: a failure names the command and restores the network; a missing marker is an error") {
    StepHarness h;
    h.target.handler = [](const std::vector<std::string>&, const ccbake::util::RunOptions&) {
        return ccbake::util::RunResult{2, false, "", "boom"};
    };
    CHECK_THROWS_WITH(
        h.apply("run", {{"argv", {"false", "--flag"}}, {"env", json::object()}, {"network", true}}),
        doctest::Contains("false failed"));
    CHECK(h.target.network == false);
    h.target.handler = nullptr;
    CHECK_THROWS_WITH(
        h.apply("run", {{"argv", {"true"}}, {"env", json::object()}, {"creates", "/never"}}),
        doctest::Contains("did not create /never"));
}

TEST_CASE("resolve_in_root: relative and absolute links, .. never leaves the root") {
    ccbake::testing::ScratchRoot r;
    std::filesystem::create_directories(r.path("/usr/lib"));
    std::filesystem::create_symlink("usr/lib", r.path("/lib"));
    std::filesystem::create_symlink("/usr/lib", r.path("/etc/libdir"));
    using ccbake::target::resolve_in_root;
    CHECK(resolve_in_root(r.dir, "/lib/x") == r.path("/usr/lib/x"));
    CHECK(resolve_in_root(r.dir, "/etc/libdir/y") == r.path("/usr/lib/y"));
    CHECK(resolve_in_root(r.dir, "/../../etc/z") == r.path("/etc/z"));
    // The last component is not followed: a symlink there is replaced, not written through.
    CHECK(resolve_in_root(r.dir, "/lib") == r.path("/lib"));
}
