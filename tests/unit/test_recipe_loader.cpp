#include "recipe/recipe.h"
#include "steps/step.h"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace ccbake::recipe;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        char tmpl[] = "/tmp/ccbake-unit-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path); }
    fs::path write(const std::string& name, const std::string& text) const {
        fs::create_directories((path / name).parent_path());
        std::ofstream(path / name) << text;
        return path / name;
    }
};

Recipe load(const fs::path& p, Diagnostics& d, std::map<std::string, std::string> sets = {}) {
    return load_recipe(p, ccbake::steps::schemas(), LoadOptions{std::move(sets)}, d);
}

} // namespace

TEST_CASE("includes merge: later files override, the including recipe wins, named steps replace") {
    TempDir t;
    t.write("common/a.yaml", R"(
variables: {version: "1.0", mirror: http://a.invalid}
artifacts:
  tool: {url: "${mirror}/tool-${version}.run", md5: 0123456789abcdef0123456789abcdef}
steps:
  - run: {name: first, argv: [echo, a]}
  - run: {name: second, argv: [echo, a2]}
)");
    t.write("common/b.yaml", R"(
variables: {mirror: http://b.invalid}
steps:
  - run: {name: second, argv: [echo, b2]}
)");
    auto top = t.write("top.yaml", R"(
include: [common/a.yaml, common/b.yaml]
name: top
base: {os: debian, version: "12", min_kernel: 6.1.0}
variables: {version: "2.0"}
steps:
  - run: {argv: [echo, top]}
)");
    Diagnostics d;
    Recipe r = load(top, d);
    REQUIRE_MESSAGE(d.empty(), d.render());
    CHECK(r.files.size() == 3);
    REQUIRE(r.artifacts.size() == 1);
    CHECK(r.artifacts[0].url == "http://b.invalid/tool-2.0.run");
    CHECK(r.artifacts[0].md5 == "0123456789abcdef0123456789abcdef");
    CHECK(r.artifacts[0].filename == "tool-2.0.run");
    REQUIRE(r.steps.size() == 3);
    CHECK(r.steps[0].name == "first");
    CHECK(r.steps[1].name == "second");
    CHECK(r.steps[1].spec["argv"][1] == "b2"); // replaced in place
    CHECK(r.steps[2].name == "run-3");
    CHECK(r.base.os == "debian");
}

TEST_CASE("--set overrides a variable; an unknown one is an error with a suggestion") {
    TempDir t;
    auto p = t.write("r.yaml", R"(
name: r
base: {}
variables: {cublas_version: 12.4.5.8-1}
steps:
  - apt_install: {packages: ["libcublas-12-4=${cublas_version}"]}
)");
    Diagnostics d;
    Recipe r = load(p, d, {{"cublas_version", "12.4.2.65-1"}});
    REQUIRE_MESSAGE(d.empty(), d.render());
    CHECK(r.steps[0].spec["packages"][0] == "libcublas-12-4=12.4.2.65-1");

    Diagnostics bad;
    load(p, bad, {{"cublas_versoin", "x"}});
    REQUIRE(bad.size() == 1);
    CHECK(bad.list()[0].note == "did you mean 'cublas_version'?");
}

TEST_CASE("step hashes follow content, not names or timeouts") {
    TempDir t;
    auto a = t.write("a.yaml",
                     "name: a\nbase: {}\nsteps:\n  - run: {name: x, argv: [true], timeout: 5m}\n");
    auto b = t.write("b.yaml", "name: b\nbase: {}\nsteps:\n  - run: {name: y, argv: [true]}\n");
    auto c = t.write("c.yaml", "name: c\nbase: {}\nsteps:\n  - run: {name: x, argv: [false]}\n");
    Diagnostics d;
    auto ra = load(a, d), rb = load(b, d), rc = load(c, d);
    REQUIRE(d.empty());
    CHECK(ra.steps[0].hash == rb.steps[0].hash);
    CHECK(ra.steps[0].hash != rc.steps[0].hash);
    CHECK(ra.steps[0].spec["timeout"] == 300);
}

TEST_CASE("a size field is stored in bytes; the default timeout is 30 minutes") {
    TempDir t;
    auto p = t.write("r.yaml", "name: r\nbase: {}\nsteps:\n  - kernel_cmdline: {swiotlb: 4GiB}\n");
    Diagnostics d;
    auto r = load(p, d);
    REQUIRE_MESSAGE(d.empty(), d.render());
    CHECK(r.steps[0].spec["swiotlb"] == 4ull << 30);
    CHECK(r.steps[0].spec["timeout"] == 1800);
    CHECK(r.steps[0].spec["dropin"] == "99-ccbake.cfg");
}

TEST_CASE("the real recipes validate and carry the vendor's checksums") {
    Diagnostics d;
    auto r = load(fs::path(CCBAKE_SOURCE_DIR) / "recipes/ppcie-8gpu.yaml", d);
    REQUIRE_MESSAGE(d.empty(), d.render());
    REQUIRE(r.artifact("sgx_local_repo"));
    CHECK(r.artifact("sgx_local_repo")->md5 == "71169068a5f0f99d203ad9f3d7976a9f");
    CHECK(r.artifact("sgx_sdk_bin")->md5 == "bc8c3453b44c6c6ce0c9fa1804cd2565");
    CHECK(r.artifact("dcap_source")->md5 == "c4f2bd528e153f651adc9564a5b200b5");
    CHECK(r.base.min_kernel == "6.6.0");
    Diagnostics d2;
    auto single = load(fs::path(CCBAKE_SOURCE_DIR) / "recipes/single-gpu.yaml", d2,
                       {{"cublas_version", "12.4.5.8-1"}});
    REQUIRE_MESSAGE(d2.empty(), d2.render());
    CHECK(!single.artifact("fabricmanager_deb"));
}
