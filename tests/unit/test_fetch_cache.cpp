#include "fetch/cache.h"
#include "fetch/file_digest.h"
#include "fetch/gc.h"
#include "fetch/lockfile.h"
#include "util/error.h"

#include <doctest/doctest.h>
#include <fstream>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace ccbake::fetch;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        char tmpl[] = "/tmp/ccbake-unit-fetch.XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path); }
};

void write(const fs::path& p, const std::string& data) {
    std::ofstream(p, std::ios::binary) << data;
}

// md5("hello\n"), sha256("hello\n")
const std::string kMd5 = "b1946ac92492d2347c6235b4d2611184";
const std::string kSha = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

fs::path add(Cache& c, const TempDir& t, const std::string& name, const Expected& e) {
    write(t.path / "in", "hello\n");
    return c.insert(t.path / "in", kMd5, kSha, e, name);
}

} // namespace

TEST_CASE("both digests of a file are computed in one pass") {
    TempDir t;
    write(t.path / "f", "hello\n");
    auto d = digest_file(t.path / "f");
    CHECK(d.md5 == kMd5);
    CHECK(d.sha256 == kSha);
    CHECK(d.size == 6);
    write(t.path / "big", std::string(5 << 20, 'x')); // several pipeline blocks
    CHECK(digest_file(t.path / "big").size == 5u << 20);
    CHECK_THROWS_AS(digest_file(t.path / "missing"), ccbake::Error);
}

TEST_CASE("a verified file is found by sha256, by md5, and (unpinned) by URL") {
    TempDir t;
    Cache c(t.path / "cache");
    Expected by_md5{kMd5, "", 0, "http://x/a"};
    fs::path obj = add(c, t, "a", by_md5);
    CHECK(obj == c.object(kSha));
    CHECK(c.lookup(by_md5) == kSha);
    CHECK(c.lookup(Expected{"", kSha, 0, ""}) == kSha);
    CHECK(!c.lookup(Expected{"", kSha, 7, ""})); // wrong size: not this file
    CHECK(!c.lookup(Expected{"", "", 0, "http://x/a"}));

    add(c, t, "u", Expected{"", "", 0, "http://x/unpinned"});
    CHECK(c.lookup(Expected{"", "", 0, "http://x/unpinned"}) == kSha);
}

TEST_CASE("a stamp proves a cached file unchanged until the file is modified") {
    TempDir t;
    Cache c(t.path / "cache");
    fs::path obj = add(c, t, "a", Expected{kMd5, "", 0, ""});
    CHECK(c.stamp_fresh(kSha));
    CHECK(c.stamp(kSha)->names == std::vector<std::string>{"a"});
    fs::permissions(obj, fs::perms::owner_write, fs::perm_options::add);
    write(obj, "jello\n"); // same size, different bytes
    CHECK(!c.stamp_fresh(kSha));
    c.evict(kSha);
    CHECK(!c.lookup(Expected{kMd5, "", 0, ""}));
}

TEST_CASE("gc removes abandoned partials and, over the limit, the least recently used files") {
    TempDir t;
    Cache c(t.path / "cache");
    add(c, t, "a", Expected{kMd5, "", 0, ""});
    write(c.partial("md5-0123"), "half");
    {
        FileLock busy = FileLock::try_lock(c.lock_path("md5-4567"));
        REQUIRE(busy.held());
        write(c.partial("md5-4567"), "in progress");
        auto r = collect_garbage(c, std::nullopt);
        CHECK(!fs::exists(c.partial("md5-0123")));
        CHECK(fs::exists(c.partial("md5-4567"))); // another process holds its lock
        CHECK(fs::exists(c.object(kSha)));
        CHECK(r.kept == 6);
    }
    auto r = collect_garbage(c, 0);
    CHECK(!fs::exists(c.object(kSha)));
    CHECK(r.kept == 0);
    CHECK(!c.lookup(Expected{kMd5, "", 0, ""}));
}

TEST_CASE("a file lock is exclusive between holders") {
    TempDir t;
    FileLock a = FileLock::try_lock(t.path / "l");
    CHECK(a.held());
    // flock locks belong to the open file description: a second open conflicts.
    CHECK(!FileLock::try_lock(t.path / "l").held());
    a = FileLock();
    CHECK(FileLock::try_lock(t.path / "l").held());
}

TEST_CASE("the lock file round-trips and pins only the URL it was made for") {
    TempDir t;
    ccbake::recipe::Recipe r;
    r.path = t.path / "r.yaml";
    LockFile lock;
    lock.artifacts["driver"] = {"http://x/driver.run", kSha, kMd5, 6};
    write_lock(lock_path_for(r), lock, r);
    CHECK(lock_path_for(r) == t.path / "r.yaml.lock");
    LockFile back = read_lock(lock_path_for(r));
    REQUIRE(back.artifacts.count("driver"));
    CHECK(back.artifacts["driver"].sha256 == kSha);
    CHECK(back.artifacts["driver"].size == 6);

    ccbake::recipe::Artifact a;
    a.name = "driver";
    a.url = "http://x/driver.run";
    CHECK(back.pin(a));
    a.url = "http://x/driver-2.run";
    CHECK(!back.pin(a));

    CHECK(read_lock(t.path / "none.lock").artifacts.empty());
    write(t.path / "bad.lock", "{\"version\": 1, \"artifacts\": {\"x\": {\"sha256\": \"zz\"}}}");
    CHECK_THROWS_AS(read_lock(t.path / "bad.lock"), ccbake::UsageError);
}
