// The installing step kinds against a fake target: a plain directory as the image root and a
// recorder in place of the chroot, so what each kind runs and writes can be asserted quickly.
#include "fake_target.h"
#include "schema_step.h"
#include "steps/install_support.h"
#include "steps/kinds.h"
#include "util/error.h"
#include "util/process.h"
#include "util/strings.h"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace ccbake;
using nlohmann::json;

namespace {

using testing::FakeTarget;

struct Fixture {
    FakeTarget target;
    recipe::Recipe recipe;
    fs::path artifacts = target.root().string() + "-artifacts";
    steps::StepContext ctx{target, recipe, [this](const std::string& n) { return artifacts / n; },
                           target.root().string() + ".log"};
    Fixture() {
        recipe.base.min_kernel = "6.6.0";
        fs::create_directories(artifacts);
    }
    ~Fixture() {
        std::error_code ec;
        fs::remove_all(artifacts, ec);
        fs::remove(ctx.log, ec);
    }
    fs::path at(const std::string& inside) const {
        return target.root() / fs::path(inside).relative_path();
    }
    void touch(const std::string& inside, const std::string& content = "") const {
        fs::create_directories(at(inside).parent_path());
        std::ofstream(at(inside)) << content;
    }
    // An installed kernel (target/kernels.h): its vmlinuz and its modules.
    void kernel(const std::string& release, bool headers) const {
        touch("/boot/vmlinuz-" + release);
        fs::create_directories(at("/lib/modules/" + release + "/kernel"));
        if (headers) fs::create_directories(at("/lib/modules/" + release + "/build"));
    }
    std::vector<std::vector<std::string>> calls_of(const std::string& program) const {
        std::vector<std::vector<std::string>> out;
        for (const auto& c : target.calls)
            if (!c.empty() && c[0] == program) out.push_back(c);
        return out;
    }
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    return {std::istreambuf_iterator<char>(in), {}};
}

bool has(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

recipe::Step step(const std::string& kind, const json& spec) {
    return testing::schema_step(kind, spec);
}

json driver_spec() {
    return {{"artifact", "nvidia_driver_run"},
            {"version", "570.195.03"},
            {"kernel", "auto"},
            {"module_type", "open"},
            {"dkms", true},
            {"extra_args", json::array({"--no-drm"})},
            {"blacklist_nouveau", true},
            {"lkca", true},
            {"update_initramfs", true}};
}

} // namespace

TEST_CASE("nvidia_driver builds open modules for the image's newest kernel >= min, once") {
    Fixture f;
    f.kernel("6.1.0-20-amd64", true);
    f.kernel("6.8.0-45-generic", true);
    f.kernel("6.8.0-51-generic", true);
    f.touch("/boot/initrd.img-6.8.0-51-generic");
    std::ofstream(f.artifacts / "nvidia_driver_run") << "#!/bin/sh\n";
    f.target.handler = [&](const std::vector<std::string>& argv, const util::RunOptions&) {
        if (argv[0] == "sh") { // the installer: leaves what the real one leaves
            f.touch("/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.570.195.03");
            f.touch("/lib/modules/6.8.0-51-generic/updates/dkms/nvidia.ko");
            f.touch("/var/lib/dkms/nvidia/570.195.03/6.8.0-51-generic/x86_64/module/nvidia.ko");
        }
        return util::RunResult{0, false, "", ""};
    };
    const auto& kind = steps::nvidia_driver_kind();
    auto s = step("nvidia_driver", driver_spec());
    auto r = kind.apply(f.ctx, s);
    bool dkms_installed = false; // --dkms needs dkms in the image: installed before the installer
    for (const auto& c : f.target.calls)
        if (c[0] == "sh")
            break;
        else if (c[0] == "apt-get" && has(c, "dkms"))
            dkms_installed = true;
    CHECK(dkms_installed);
    auto runs = f.calls_of("sh");
    REQUIRE(runs.size() == 1);
    CHECK(has(runs[0], "--silent"));
    CHECK(has(runs[0], "--kernel-module-type=open"));
    CHECK(has(runs[0], "--kernel-name=6.8.0-51-generic"));
    CHECK(has(runs[0], "--skip-module-load")); // the host's kernel stays untouched
    CHECK(has(runs[0], "--no-nouveau-check"));
    CHECK(has(runs[0], "--dkms"));
    CHECK(has(runs[0], "--no-drm"));
    CHECK(util::starts_with(runs[0][1], "/var/tmp/ccbake-stage-"));
    CHECK_FALSE(fs::exists(f.at(runs[0][1]))); // the staged .run is gone afterwards
    CHECK(slurp(f.at("/etc/modprobe.d/nvidia-lkca.conf"))
              .find("softdep nvidia pre: ecdsa_generic ecdh") != std::string::npos);
    CHECK(slurp(f.at("/etc/modprobe.d/nvidia-blacklist-nouveau.conf")).find("blacklist nouveau") !=
          std::string::npos);
    auto initramfs = f.calls_of("update-initramfs");
    REQUIRE(initramfs.size() == 1);
    CHECK(initramfs[0] ==
          std::vector<std::string>{"update-initramfs", "-u", "-k", "6.8.0-51-generic"});
    CHECK(r.changes.size() == 4);

    f.target.calls.clear();
    auto again = kind.apply(f.ctx, s);
    CHECK(again.changes.empty());
    CHECK(f.target.calls.empty());
}

TEST_CASE("nvidia_driver fails when --dkms left the modules unregistered with DKMS") {
    Fixture f;
    f.kernel("6.8.0-51-generic", true);
    std::ofstream(f.artifacts / "nvidia_driver_run") << "#!/bin/sh\n";
    f.target.handler = [&](const std::vector<std::string>& argv, const util::RunOptions&) {
        if (argv[0] == "sh") { // as the real installer does without dkms: a warning only
            f.touch("/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.570.195.03");
            f.touch("/lib/modules/6.8.0-51-generic/kernel/drivers/video/nvidia.ko");
        }
        return util::RunResult{0, false, "", ""};
    };
    CHECK_THROWS_WITH_AS(
        steps::nvidia_driver_kind().apply(f.ctx, step("nvidia_driver", driver_spec())),
        doctest::Contains("did not register its modules with DKMS for kernel 6.8.0-51-generic"),
        Error);
}

TEST_CASE("nvidia_driver refuses a kernel without headers before running the installer") {
    Fixture f;
    f.kernel("6.8.0-51-generic", false);
    CHECK_THROWS_WITH_AS(
        steps::nvidia_driver_kind().apply(f.ctx, step("nvidia_driver", driver_spec())),
        doctest::Contains("headers of kernel 6.8.0-51-generic"), Error);
    CHECK(f.target.calls.empty());
}

TEST_CASE("nvidia_driver needs a kernel that meets base.min_kernel") {
    Fixture f;
    f.kernel("5.15.0-100-generic", true);
    CHECK_THROWS_WITH_AS(
        steps::nvidia_driver_kind().apply(f.ctx, step("nvidia_driver", driver_spec())),
        doctest::Contains("no kernel >= 6.6.0"), Error);
}

TEST_CASE("a failing NVIDIA installer's own log is in the error") {
    Fixture f;
    f.kernel("6.8.0-51-generic", true);
    std::ofstream(f.artifacts / "nvidia_driver_run") << "#!/bin/sh\n";
    f.target.handler = [&](const std::vector<std::string>& argv, const util::RunOptions&) {
        if (argv[0] != "sh") return util::RunResult{0, false, "", ""};
        f.touch("/var/log/nvidia-installer.log", "ERROR: Unrecognized option: '--bogus'\n");
        return util::RunResult{1, false, "", ""};
    };
    try {
        steps::nvidia_driver_kind().apply(f.ctx, step("nvidia_driver", driver_spec()));
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("NVIDIA installer failed") != std::string::npos);
        CHECK(util::join(e.context(), "\n").find("Unrecognized option: '--bogus'") !=
              std::string::npos);
    }
    CHECK(slurp(f.ctx.log).find("Unrecognized option") != std::string::npos);
    CHECK_FALSE(fs::exists(f.at("/etc/modprobe.d/nvidia-lkca.conf")));
}

TEST_CASE("vendor_installer feeds answers, is skipped when done and must create its marker") {
    Fixture f;
    std::ofstream(f.artifacts / "sgx_sdk_bin") << "#!/bin/sh\n";
    json spec = {{"artifact", "sgx_sdk_bin"},
                 {"args", json::array()},
                 {"answers", json::array({"no", "/opt/intel/"})},
                 {"creates", "/opt/intel/sgxsdk/environment"},
                 {"env", json::object()}};
    bool create = false;
    f.target.handler = [&](const std::vector<std::string>&, const util::RunOptions&) {
        if (create) f.touch("/opt/intel/sgxsdk/environment");
        return util::RunResult{0, false, "", ""};
    };
    const auto& kind = steps::vendor_installer_kind();
    CHECK_THROWS_WITH_AS(kind.apply(f.ctx, step("vendor_installer", spec)),
                         doctest::Contains("did not create /opt/intel/sgxsdk/environment"), Error);
    create = true;
    auto r = kind.apply(f.ctx, step("vendor_installer", spec));
    CHECK(r.changes.size() == 1);
    REQUIRE(f.target.options.back().stdin_data.has_value());
    CHECK(*f.target.options.back().stdin_data == "no\n/opt/intel/\n");
    f.target.calls.clear();
    CHECK(kind.apply(f.ctx, step("vendor_installer", spec)).changes.empty());
    CHECK(f.target.calls.empty());
}

TEST_CASE("source_build sources env_file through a fixed wrapper, recipe text only as arguments") {
    Fixture f;
    fs::create_directories(f.at("/src/sample"));
    f.touch("/opt/sdk/environment; rm -rf /", "export X=1\n");
    json spec = {{"dir", "/src/sample"},
                 {"make", json::array({json::array({"clean"}), json::array({"SGX_DEBUG=1"})})},
                 {"env", {{"CC", "gcc"}}},
                 {"env_file", "/opt/sdk/environment; rm -rf /"},
                 {"creates", "/src/sample/app"}};
    f.target.handler = [&](const std::vector<std::string>& argv, const util::RunOptions&) {
        if (has(argv, "SGX_DEBUG=1")) f.touch("/src/sample/app");
        return util::RunResult{0, false, "", ""};
    };
    auto r = steps::source_build_kind().apply(f.ctx, step("source_build", spec));
    REQUIRE(f.target.calls.size() == 2);
    const auto& argv = f.target.calls[1];
    CHECK(argv[0] == "/bin/sh");
    CHECK(argv[2].find("environment") == std::string::npos); // the script is fixed text
    CHECK(argv[4] == "/opt/sdk/environment; rm -rf /");
    CHECK(std::vector<std::string>(argv.begin() + 5, argv.end()) ==
          std::vector<std::string>{"make", "SGX_DEBUG=1"});
    CHECK(f.target.options[1].cwd == "/src/sample");
    CHECK(f.target.options[1].env.at("CC") == "gcc");
    CHECK(r.changes.size() == 2);
    f.target.calls.clear();
    CHECK(steps::source_build_kind().apply(f.ctx, step("source_build", spec)).changes.empty());
    CHECK(f.target.calls.empty());
}

TEST_CASE("hermetic apt uses only the image's file: sources") {
    Fixture f;
    f.touch("/etc/apt/sources.list", "deb http://archive.invalid/debian bookworm main\n");
    f.touch("/etc/apt/sources.list.d/sgx.list",
            "# local\ndeb [trusted=yes arch=amd64] file:/srv/repo jammy main\n");
    steps::install::Staging staging(f.ctx);
    auto opts = steps::install::hermetic_apt_options(f.ctx, staging);
    std::string list = slurp(f.at(staging.inside() + "/hermetic.list"));
    CHECK(list.find("file:/srv/repo jammy main") != std::string::npos);
    CHECK(list.find("http:") == std::string::npos);
    CHECK(has(opts, "Dir::Etc::SourceParts=" + staging.inside() + "/hermetic.d"));
    CHECK(fs::is_empty(f.at(staging.inside() + "/hermetic.d")));
    CHECK(has(opts, "Dir::Etc::SourceList=" + staging.inside() + "/hermetic.list"));
}

TEST_CASE("hermetic apt keeps local deb822 sources too") {
    Fixture f;
    f.touch(
        "/etc/apt/sources.list.d/debian.sources",
        "Types: deb\nURIs: http://archive.invalid/debian\nSuites: bookworm\nComponents: main\n");
    f.touch("/etc/apt/sources.list.d/local.sources",
            "# local\nTypes: deb\nURIs: file:/srv/repo\nSuites: jammy\n"
            "Components: main\nTrusted: yes\n\nTypes: deb\n"
            "URIs: file:/srv/off\nSuites: jammy\nEnabled: no\n");
    steps::install::Staging staging(f.ctx);
    auto opts = steps::install::hermetic_apt_options(f.ctx, staging);
    CHECK(has(opts, "Dir::Etc::SourceParts=" + staging.inside() + "/hermetic.d"));
    std::string parts = slurp(f.at(staging.inside() + "/hermetic.d/local.sources"));
    CHECK(parts.find("URIs: file:/srv/repo") != std::string::npos);
    CHECK(parts.find("http:") == std::string::npos);
    CHECK(parts.find("/srv/off") == std::string::npos);
}

TEST_CASE("hermetic apt without a local source is an error") {
    Fixture f;
    f.touch("/etc/apt/sources.list", "deb http://archive.invalid/debian bookworm main\n");
    steps::install::Staging staging(f.ctx);
    CHECK_THROWS_WITH_AS(steps::install::hermetic_apt_options(f.ctx, staging),
                         doctest::Contains("no local (file:)"), Error);
}

TEST_CASE("apt_install names a package apt does not know") {
    Fixture f;
    f.target.handler = [&](const std::vector<std::string>& argv, const util::RunOptions& o) {
        if (argv[0] != "apt-get" || !has(argv, "install")) return util::RunResult{0, false, "", ""};
        std::ofstream(o.log, std::ios::app)
            << "Reading package lists...\nE: Unable to locate package no-such-pkg\n";
        return util::RunResult{100, false, "", "E: Unable to locate package no-such-pkg"};
    };
    json spec = {{"packages", json::array({"make", "no-such-pkg"})},
                 {"recommends", false},
                 {"hermetic", false},
                 {"update", false}};
    CHECK_THROWS_WITH_AS(steps::apt_install_kind().apply(f.ctx, step("apt_install", spec)),
                         doctest::Contains("apt knows no package 'no-such-pkg'"), Error);
    auto apt = f.calls_of("apt-get");
    REQUIRE(apt.size() == 2);
    CHECK(has(apt[0], "update")); // a cloud image's lists are missing or stale: refreshed first
    CHECK(has(apt[1], "--no-install-recommends"));
    CHECK(f.target.network_toggles == std::vector<bool>{true, false}); // network only while apt ran
}

TEST_CASE("apt's lists are refreshed once per bake, however many steps install from apt") {
    Fixture f;
    f.target.handler = [&](const std::vector<std::string>&, const util::RunOptions&) {
        return util::RunResult{0, false, "", ""};
    };
    json spec = {{"packages", json::array({"make"})},
                 {"recommends", true},
                 {"hermetic", false},
                 {"update", false}};
    steps::apt_install_kind().apply(f.ctx, step("apt_install", spec));
    spec["packages"] = json::array({"dkms"});
    steps::apt_install_kind().apply(f.ctx, step("apt_install", spec));
    auto updates = 0;
    for (const auto& c : f.calls_of("apt-get"))
        updates += has(c, "update") ? 1 : 0;
    CHECK(updates == 1);
    spec["update"] = true; // asked for explicitly: again
    spec["packages"] = json::array({"gcc"});
    steps::apt_install_kind().apply(f.ctx, step("apt_install", spec));
    updates = 0;
    for (const auto& c : f.calls_of("apt-get"))
        updates += has(c, "update") ? 1 : 0;
    CHECK(updates == 2);
}

TEST_CASE("deb_install refuses a .deb whose version is not the recipe's, before installing") {
    Fixture f;
    fs::path pkg = f.artifacts / "pkg";
    fs::create_directories(pkg / "DEBIAN");
    std::ofstream(pkg / "DEBIAN/control")
        << "Package: nvidia-fabricmanager-570\nVersion: 570.195.02-1\n"
           "Architecture: amd64\nMaintainer: stand-in <none@example.invalid>\n"
           "Description: stand-in\n";
    auto built = util::run(
        {"dpkg-deb", "--root-owner-group", "-b", pkg.string(), (f.artifacts / "fm").string()});
    if (built.exit_code != 0) return; // no dpkg-deb here: the integration tests cover it
    json spec = {{"debs", json::array({{{"artifact", "fm"},
                                        {"package", "nvidia-fabricmanager-570"},
                                        {"version", "570.195.03-1"}}})}};
    CHECK_THROWS_WITH_AS(
        steps::deb_install_kind().apply(f.ctx, step("deb_install", spec)),
        doctest::Contains("fm holds nvidia-fabricmanager-570 570.195.02-1, but the recipe expects "
                          "nvidia-fabricmanager-570 570.195.03-1"),
        Error);
    CHECK(f.target.calls.empty());
}

TEST_CASE("kernel keeps the newest kernel >= min as default and blocks unattended reboots") {
    Fixture f;
    f.kernel("6.8.0-51-generic", true);
    json spec = {{"package", "linux-generic-hwe-22.04"},
                 {"headers_package", "linux-headers-generic-hwe-22.04"},
                 {"headers", true},
                 {"default_boot", true},
                 {"block_reboot", true}};
    auto r = steps::kernel_kind().apply(f.ctx, step("kernel", spec));
    CHECK(f.calls_of("apt-get").empty());
    CHECK(
        slurp(f.at("/etc/apt/apt.conf.d/99-ccbake-no-reboot")).find("Automatic-Reboot \"false\"") !=
        std::string::npos);
    CHECK(slurp(f.at("/etc/default/grub.d/90-ccbake-kernel.cfg")).find("GRUB_DEFAULT=0") !=
          std::string::npos);
    CHECK(r.changes.size() == 2);
    CHECK(steps::kernel_kind().apply(f.ctx, step("kernel", spec)).changes.empty());
}

TEST_CASE("kernel installs the kernel package when none meets the minimum") {
    Fixture f;
    f.kernel("5.15.0-100-generic", true);
    f.target.handler = [&](const std::vector<std::string>& argv, const util::RunOptions&) {
        if (argv[0] == "apt-get") f.kernel("6.8.0-51-generic", true);
        return util::RunResult{0, false, "", ""};
    };
    json spec = {{"package", "linux-generic-hwe-22.04"},
                 {"headers_package", "linux-headers-generic-hwe-22.04"},
                 {"headers", true},
                 {"default_boot", false},
                 {"block_reboot", false}};
    steps::kernel_kind().apply(f.ctx, step("kernel", spec));
    auto apt = f.calls_of("apt-get");
    REQUIRE(apt.size() == 2);
    CHECK(apt[0].back() == "update");
    CHECK(has(apt[1], "linux-generic-hwe-22.04"));
    CHECK(has(apt[1], "linux-headers-generic-hwe-22.04"));
    CHECK(f.target.network_toggles == std::vector<bool>{true, false});
}

TEST_CASE("python_venv installs offline from a wheelhouse, once") {
    Fixture f;
    fs::create_directories(f.artifacts / "wh/wheels");
    std::ofstream(f.artifacts / "wh/wheels/stand_in-1.0-py3-none-any.whl") << "stand-in wheel";
    auto tar = util::run({"tar", "-C", (f.artifacts / "wh").string(), "-czf",
                          (f.artifacts / "wheelhouse").string(), "wheels"});
    REQUIRE(tar.exit_code == 0);
    json spec = {{"venv", "/opt/v"},
                 {"install", json::array({"stand-in==1.0"})},
                 {"wheelhouse", "wheelhouse"},
                 {"python", "python3"}};
    f.target.handler = [&](const std::vector<std::string>& argv, const util::RunOptions&) {
        if (argv[0] == "python3") f.touch("/opt/v/bin/python");
        if (argv[0] == "/opt/v/bin/pip")
            CHECK(fs::exists(f.at(argv[argv.size() - 2]) / "stand_in-1.0-py3-none-any.whl"));
        return util::RunResult{0, false, "", ""};
    };
    auto r = steps::python_venv_kind().apply(f.ctx, step("python_venv", spec));
    auto pip = f.calls_of("/opt/v/bin/pip");
    REQUIRE(pip.size() == 1);
    CHECK(has(pip[0], "--no-index"));
    CHECK(has(pip[0], "stand-in==1.0"));
    CHECK(f.target.network_toggles.empty()); // offline: the image never gets the host's DNS
    CHECK(r.changes.size() == 2);
    f.target.calls.clear();
    CHECK(steps::python_venv_kind().apply(f.ctx, step("python_venv", spec)).changes.empty());
    CHECK(f.target.calls.empty());
}
