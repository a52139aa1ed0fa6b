#include "target/kernels.h"
#include "util/kernel_release.h"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace ccbake;

namespace {

struct Root {
    fs::path dir = fs::temp_directory_path() / "ccbake-test-kernels";
    Root() {
        fs::remove_all(dir);
        fs::create_directories(dir / "boot");
        fs::create_directories(dir / "lib/modules");
    }
    ~Root() { fs::remove_all(dir); }
    void vmlinuz(const std::string& r) const { std::ofstream(dir / "boot" / ("vmlinuz-" + r)); }
    void modules(const std::string& r) const {
        fs::create_directories(dir / "lib/modules" / r);
        std::ofstream(dir / "lib/modules" / r / "modules.order");
    }
};

} // namespace

TEST_CASE("kernel releases compare by their leading numbers, never by their flavour") {
    CHECK(util::compare_kernel_releases("6.8.0-45-generic", "6.6.0") > 0);
    CHECK(util::compare_kernel_releases("5.15.0-91-generic", "6.6.0") < 0);
    CHECK(util::compare_kernel_releases("6.6.0-1-amd64", "6.6.0") >= 0);
    CHECK(util::compare_kernel_releases("6.6.0", "6.6.0") == 0);
    CHECK(util::compare_kernel_releases("6.10.2", "6.9.12") > 0);
    CHECK(util::compare_kernel_releases("6.8.0-1012-intel", "6.8.0-51-generic") > 0);
}

TEST_CASE("a kernel is installed when the image has its vmlinuz and its modules, newest first") {
    Root r;
    r.vmlinuz("5.15.0-91-generic");
    r.modules("5.15.0-91-generic");
    r.vmlinuz("6.8.0-45-generic");
    r.modules("6.8.0-45-generic");
    r.vmlinuz("6.8.0-50-generic");
    r.modules("6.8.0-50-generic");
    r.vmlinuz("6.8.0-60-generic"); // a kernel file without its modules: not installed
    fs::create_directories(r.dir / "lib/modules/6.9.0-1-generic/build"); // headers only
    CHECK(target::installed_kernels(r.dir) ==
          std::vector<std::string>{"6.8.0-50-generic", "6.8.0-45-generic", "5.15.0-91-generic"});
    CHECK(target::kernels_at_least(r.dir, "6.6.0") ==
          std::vector<std::string>{"6.8.0-50-generic", "6.8.0-45-generic"});
    CHECK(target::kernels_at_least(r.dir, "6.9.0").empty());
}

TEST_CASE("kernels are found through the image's own links, never the host's") {
    Root r;
    fs::remove_all(r.dir / "boot");
    fs::create_directories(r.dir / "real-boot");
    fs::create_symlink("/real-boot", r.dir / "boot"); // absolute: means the image's /real-boot
    std::ofstream(r.dir / "real-boot/vmlinuz-6.1.0-18-amd64");
    r.modules("6.1.0-18-amd64");
    CHECK(target::installed_kernels(r.dir) == std::vector<std::string>{"6.1.0-18-amd64"});
}
