#include "fetch/downloader.h"
#include "util/digest.h"

#include <doctest/doctest.h>
#include <fstream>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace ccbake::fetch;

namespace {

struct Silent : Progress {
    void started(const std::string&, const std::string&, std::uint64_t, std::uint64_t) override {}
    void advanced(const std::string&, std::uint64_t, std::uint64_t) override {}
    void note(const std::string&, const std::string& event, const std::string&) override {
        notes.push_back(event);
    }
    void finished(const std::string&, std::uint64_t, double) override { done++; }
    void failed(const std::string&, const std::string&) override {}
    void summary(int, int, std::uint64_t, double) override {}
    std::vector<std::string> notes;
    int done = 0;
};

struct Dir {
    fs::path path;
    Dir() {
        char tmpl[] = "/tmp/ccbake-unit-dl.XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~Dir() { fs::remove_all(path); }
};

std::string put(const fs::path& p, size_t n, char seed) {
    std::string data(n, '\0');
    for (size_t i = 0; i < n; ++i)
        data[i] = char(seed + i * 31 % 251);
    std::ofstream(p, std::ios::binary) << data;
    return data;
}

std::string md5_of(const std::string& data) {
    ccbake::util::Hasher h;
    h.update(data);
    h.finish();
    return h.md5_hex();
}

TransferOptions quick() {
    TransferOptions t;
    t.jobs = 2;
    t.retry.tries = 1;
    return t;
}

} // namespace

TEST_CASE("file URLs download in parallel, verified, with both digests") {
    Dir d;
    std::vector<Request> reqs;
    std::vector<std::string> data;
    for (int i = 0; i < 3; ++i) {
        fs::path src = d.path / ("src" + std::to_string(i));
        data.push_back(put(src, 300000 + size_t(i), char('a' + i)));
        Request q;
        q.name = "a" + std::to_string(i);
        q.urls = {"file://" + src.string()};
        q.partial = d.path / (q.name + ".partial");
        q.md5 = md5_of(data.back());
        q.size = data.back().size();
        reqs.push_back(q);
    }
    Silent progress;
    auto out = download(reqs, quick(), progress);
    REQUIRE(out.size() == 3);
    for (int i = 0; i < 3; ++i) {
        CHECK(out[size_t(i)].ok);
        CHECK(out[size_t(i)].md5 == reqs[size_t(i)].md5);
        CHECK(out[size_t(i)].sha256 == ccbake::util::sha256_hex(data[size_t(i)]));
        CHECK(fs::file_size(reqs[size_t(i)].partial) == data[size_t(i)].size());
    }
    CHECK(progress.done == 3);
}

TEST_CASE("a digest mismatch names both digests and leaves no partial file") {
    Dir d;
    put(d.path / "src", 1000, 'x');
    Request q;
    q.name = "blob";
    q.urls = {"file://" + (d.path / "src").string()};
    q.partial = d.path / "blob.partial";
    q.md5 = std::string(32, '0');
    Silent progress;
    auto out = download({q}, quick(), progress);
    CHECK(!out[0].ok);
    CHECK(out[0].error.find("artifact 'blob' from file://") == 0);
    CHECK(out[0].error.find("md5 mismatch: expected 00000000000000000000000000000000, got ") !=
          std::string::npos);
    CHECK(!fs::exists(q.partial));
}

TEST_CASE("a failing URL falls through to the next mirror") {
    Dir d;
    std::string data = put(d.path / "mirror", 5000, 'm');
    Request q;
    q.name = "blob";
    q.urls = {"file://" + (d.path / "missing").string(), "file://" + (d.path / "mirror").string()};
    q.partial = d.path / "blob.partial";
    q.md5 = md5_of(data);
    Silent progress;
    auto out = download({q}, quick(), progress);
    CHECK(out[0].ok);
    CHECK(out[0].url == q.urls[1]);
    CHECK(progress.notes == std::vector<std::string>{"mirror"});
    REQUIRE(out[0].attempts.size() == 1);
    CHECK(out[0].attempts[0].find(q.urls[0]) == 0);
}

TEST_CASE("more bytes than the expected size are cut off") {
    Dir d;
    put(d.path / "src", 10000, 'b');
    Request q;
    q.name = "blob";
    q.urls = {"file://" + (d.path / "src").string()};
    q.partial = d.path / "blob.partial";
    q.size = 4000;
    Silent progress;
    auto out = download({q}, quick(), progress);
    CHECK(!out[0].ok);
    CHECK(out[0].error.find("sent more than the expected 4000 bytes") != std::string::npos);
    CHECK(!fs::exists(q.partial));
}
