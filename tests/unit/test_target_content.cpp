#include "target/content.h"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace ccbake;

namespace {

struct Root {
    fs::path dir = fs::temp_directory_path() / "ccbake-test-content";
    Root() {
        fs::remove_all(dir);
        fs::create_directories(dir / "etc");
        fs::create_directories(dir / "var/lib/ccbake");
        std::ofstream(dir / "etc/motd") << "hello\n";
        std::ofstream(dir / "etc/odd name\n") << "x";
        std::ofstream(dir / "var/lib/ccbake/journal.json") << "{}";
        fs::create_symlink("/etc/motd", dir / "etc/link");
    }
    ~Root() { fs::remove_all(dir); }
};

} // namespace

TEST_CASE("content: every path sorted, with type, mode, owner, size, sha256 and link target") {
    Root r;
    auto list = target::list_content(r.dir, {"/var/lib/ccbake/journal.json"});
    std::vector<std::string> paths;
    for (const auto& e : list)
        paths.push_back(e.path);
    CHECK(paths == std::vector<std::string>{"/", "/etc", "/etc/link", "/etc/motd",
                                            "/etc/odd name\n", "/var", "/var/lib",
                                            "/var/lib/ccbake"});
    const auto& motd = list[3];
    CHECK(motd.type == 'f');
    CHECK(motd.size == 6);
    CHECK(motd.sha256 == "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
    CHECK(list[2].link == "/etc/motd");
    // Names with spaces and newlines stay on one line and read back the same.
    std::string text = target::content_text(list);
    CHECK(text.find("/etc/odd\\x20name\\x0a\n") != std::string::npos);
    auto back = target::parse_content(text);
    CHECK(target::content_text(back) == text);
    CHECK(target::compare_content(list, back).empty());
    CHECK(target::content_digest(back) == target::content_digest(list));
}

TEST_CASE("content: what differs between two lists, path by path") {
    Root r;
    auto before = target::list_content(r.dir, {});
    std::ofstream(r.dir / "etc/motd") << "HELLO\n";
    fs::permissions(r.dir / "etc", fs::perms::owner_all);
    fs::remove(r.dir / "etc/link");
    std::ofstream(r.dir / "etc/new");
    auto after = target::list_content(r.dir, {});
    CHECK(target::content_digest(before) != target::content_digest(after));
    auto changes = target::compare_content(before, after);
    REQUIRE(changes.size() == 4);
    CHECK(changes[0].path == "/etc");
    CHECK(changes[0].what == "mode 0755 -> 0700");
    CHECK(changes[1].path == "/etc/link");
    CHECK(changes[1].what == "removed");
    CHECK(changes[2].path == "/etc/motd");
    CHECK(changes[2].what == "content");
    CHECK(changes[3].path == "/etc/new");
    CHECK(changes[3].what == "added");
    CHECK_THROWS(target::parse_content("nonsense\n"));
}
