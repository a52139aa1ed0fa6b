#include "recipe/recipe.h"
#include "render/cloud_init.h"
#include "render/cloud_init_assets.h"
#include "render/seed_iso.h"
#include "steps/step.h"
#include "util/error.h"

#include <archive.h>
#include <archive_entry.h>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <yaml-cpp/yaml.h>

namespace fs = std::filesystem;
using namespace ccbake;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        char tmpl[] = "/tmp/ccbake-unit-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path); }
};

const char* kRecipe = R"(
name: render-test
base: {os: debian, version: "12", min_kernel: 6.1.0}
artifacts:
  driver_run: {url: "http://127.0.0.1:9/NVIDIA-Linux-x86_64-570.195.03.run", SHA}
steps:
  - kernel_cmdline: {swiotlb: 4GiB, add: [console=ttyS0]}
  - systemd:
      ordering: [{unit: bcm-agent.service, after: [nvidia-persistenced.service]}]
  - nvidia_driver: {artifact: driver_run, version: 570.195.03}
  - file: {path: /etc/motd, content: "it's 'quoted' \"text\"; $(not a shell)\n  indented\n"}
  - source_build: {dir: /opt/intel/tdx-quote-generation-sample}
  - run: {argv: [/bin/sh, -c, "echo $${HOME}"]}
)";

recipe::Recipe load(const TempDir& t, bool pinned) {
    std::string text = kRecipe;
    std::string sha = pinned ? "sha256: " + std::string(64, 'a') : "size: 1";
    text.replace(text.find("SHA"), 3, sha);
    std::ofstream(t.path / "r.yaml") << text;
    recipe::Diagnostics d;
    recipe::Recipe r = recipe::load_recipe(t.path / "r.yaml", steps::schemas(), {}, d);
    REQUIRE_MESSAGE(d.empty(), d.render());
    return r;
}

std::vector<std::vector<std::string>> runcmd(const YAML::Node& doc) {
    std::vector<std::vector<std::string>> out;
    for (const auto& c : doc["runcmd"])
        out.push_back(c.as<std::vector<std::string>>());
    return out;
}

std::string file_content(const YAML::Node& doc, const std::string& path) {
    for (const auto& f : doc["write_files"])
        if (f["path"].as<std::string>() == path) return f["content"].as<std::string>();
    return "<missing>";
}

std::map<std::string, std::string> read_iso(const fs::path& iso) {
    std::map<std::string, std::string> files;
    struct archive* a = archive_read_new();
    archive_read_support_format_iso9660(a);
    REQUIRE(archive_read_open_filename(a, iso.c_str(), 10240) == ARCHIVE_OK);
    struct archive_entry* e;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        std::string data(static_cast<size_t>(archive_entry_size(e)), '\0');
        archive_read_data(a, data.data(), data.size());
        files[archive_entry_pathname(e)] = data;
    }
    archive_read_free(a);
    return files;
}

} // namespace

TEST_CASE("the embedded first-boot helper is cloud-init/ccbake-firstboot.sh (compiled in at build "
          "time)") {
    std::ifstream in(fs::path(CCBAKE_SOURCE_DIR) / "cloud-init/ccbake-firstboot.sh");
    std::stringstream ss;
    ss << in.rdbuf();
    CHECK(ss.str() == render::kFirstbootScript);
}

TEST_CASE("check mode: waits for nvidia-persistenced, then checks, never reboots") {
    TempDir t;
    auto files = render::render_cloud_init(load(t, false), {});
    CHECK(files.user_data.rfind("#cloud-config\n", 0) == 0);
    YAML::Node doc = YAML::Load(files.user_data);
    CHECK_FALSE(doc["power_state"]);
    CHECK(file_content(doc, "/usr/lib/ccbake/ccbake-firstboot") == render::kFirstbootScript);
    auto cmds = runcmd(doc);
    REQUIRE(cmds.size() == 2);
    CHECK(cmds[0] ==
          std::vector<std::string>{"/usr/lib/ccbake/ccbake-firstboot", "wait-persistenced", "900"});
    CHECK(cmds[1] == std::vector<std::string>{"/usr/lib/ccbake/ccbake-firstboot", "check",
                                              "--quote-dir",
                                              "/opt/intel/tdx-quote-generation-sample"});
    for (const auto& c : cmds)
        for (const auto& arg : c)
            for (const char* word : {"reboot", "poweroff", "shutdown", "halt"})
                CHECK(arg.find(word) == std::string::npos);
    std::istringstream script(render::kFirstbootScript);
    for (std::string line; std::getline(script, line);)
        if (line.find_first_not_of(' ') != std::string::npos &&
            line[line.find_first_not_of(' ')] != '#')
            for (const char* word : {"reboot", "poweroff", "shutdown -r", "systemctl halt"})
                CHECK_MESSAGE(line.find(word) == std::string::npos, line);
    CHECK(files.meta_data.find("instance-id: ccbake-render-test-check-") == 0);
}

TEST_CASE("the recipe's steps are not rendered: only `ccbake bake` applies them") {
    TempDir t;
    auto files = render::render_cloud_init(load(t, true), {60});
    YAML::Node doc = YAML::Load(files.user_data);
    auto cmds = runcmd(doc);
    REQUIRE(cmds.size() == 2);
    CHECK(cmds[0][2] == "60");
    for (const auto& f : doc["write_files"]) {
        std::string path = f["path"].as<std::string>();
        CHECK((path == "/usr/lib/ccbake/ccbake-firstboot" || path == "/etc/ccbake/firstboot.json"));
    }
}

TEST_CASE("the seed ISO reads back with label cidata and both files, names intact") {
    TempDir t;
    fs::path iso = t.path / "seed.iso";
    render::write_seed_iso(iso,
                           {{"user-data", "#cloud-config\n"}, {"meta-data", "instance-id: x\n"}});
    CHECK(render::iso_volume_id(iso) == "cidata");
    auto files = read_iso(iso);
    CHECK(files["user-data"] == "#cloud-config\n");
    CHECK(files["meta-data"] == "instance-id: x\n");
    CHECK_FALSE(fs::exists(t.path / "seed.iso.partial"));
    CHECK_THROWS_AS(render::iso_volume_id(t.path / "nothing"), Error);
}

TEST_CASE("a guest_check step gives the checker's tool paths and its persistenced timeout") {
    TempDir t;
    std::ofstream(t.path / "g.yaml") << R"(
name: guest-check-test
base: {os: debian, version: "12", min_kernel: 6.1.0}
steps:
  - guest_check:
      persistenced_timeout: 7m
      tdx_attest: /opt/q/test_tdx_attest
      quote_verify: /opt/v/app
      ppcie_python: /opt/venv/bin/python3
)";
    recipe::Diagnostics d;
    recipe::Recipe r = recipe::load_recipe(t.path / "g.yaml", steps::schemas(), {}, d);
    REQUIRE_MESSAGE(d.empty(), d.render());
    YAML::Node doc = YAML::Load(render::render_cloud_init(r, {}).user_data);
    auto cmds = runcmd(doc);
    REQUIRE(cmds.size() == 2);
    CHECK(cmds[0] ==
          std::vector<std::string>{"/usr/lib/ccbake/ccbake-firstboot", "wait-persistenced", "420"});
    CHECK(cmds[1] == std::vector<std::string>{"/usr/lib/ccbake/ccbake-firstboot", "check",
                                              "--quote-dir", "/opt/q", "--qvs-dir", "/opt/v",
                                              "--venv", "/opt/venv"});
}
