#include "bake/sbom.h"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <set>

namespace fs = std::filesystem;
using namespace ccbake;

namespace {

struct Fixture {
    recipe::Recipe recipe;
    std::map<std::string, fetch::Fetched> fetched;
    std::vector<bake::StepOutcome> steps;
    Fixture() {
        recipe.name = "gpu image";
        recipe.path = "/recipes/gpu.yaml";
        recipe.hash = "abc";
        recipe.base.os = "ubuntu";
        recipe.base.version = "22.04";
        recipe.artifacts.push_back({.name = "nvidia_driver_run",
                                    .url = "https://example.test/NVIDIA-Linux-x86_64.run",
                                    .filename = "NVIDIA-Linux-x86_64.run"});
        fetched["nvidia_driver_run"] = {"/cache/x", std::string(32, 'a'), std::string(64, 'b'), 42};
    }
    bake::ManifestInput input() {
        return {recipe,
                fetched,
                {"qcow2", "base.qcow2", std::string(64, 'c'), 1},
                "Ubuntu 22.04",
                "6.8.0",
                steps,
                "qcow2",
                {},
                {.sha256 = std::string(64, 'd')},
                {{"libstdc++6", "1:12.3.0-1ubuntu1~22.04", "amd64", "gcc-12"},
                 {"libstdc--6", "1", "amd64", ""}}};
    }
};

const nlohmann::json& by_name(const nlohmann::json& doc, const std::string& name) {
    for (const auto& p : doc["packages"])
        if (p["name"] == name) return p;
    FAIL("no package " << name);
    throw 0;
}

} // namespace

TEST_CASE("sbom: SPDX identifiers are well formed and unique, purls escaped") {
    Fixture f;
    auto doc = bake::build_sbom(f.input(), {{"/opt/v", "Jinja2_Ext", "3.1.2"}});
    CHECK(doc["spdxVersion"] == "SPDX-2.3");
    CHECK(doc["documentNamespace"] ==
          "https://ccbake.invalid/spdxdocs/gpu%20image-" + std::string(64, 'd'));
    std::set<std::string> ids;
    for (const auto& p : doc["packages"]) {
        std::string id = p["SPDXID"];
        CHECK(id.find_first_not_of("SPDXRef-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789.") == std::string::npos);
        CHECK(ids.insert(id).second);
        CHECK(p["filesAnalyzed"] == false);
    }
    // "libstdc++6" and "libstdc--6" both sanitise to "libstdc--6": the second gets a counter.
    CHECK(ids.count("SPDXRef-deb-libstdc--6-amd64") == 1);
    CHECK(ids.count("SPDXRef-deb-libstdc--6-amd64-2") == 1);
    const auto& deb = by_name(doc, "libstdc++6");
    CHECK(deb["externalRefs"][0]["referenceLocator"] ==
          "pkg:deb/ubuntu/libstdc%2B%2B6@1%3A12.3.0-1ubuntu1~22.04?arch=amd64&upstream=gcc-12");
    CHECK(deb["sourceInfo"] == "built from the Debian source package gcc-12");
    const auto& py = by_name(doc, "Jinja2_Ext");
    CHECK(py["externalRefs"][0]["referenceLocator"] == "pkg:pypi/jinja2-ext@3.1.2");
    CHECK(py["comment"] == "installed in the venv /opt/v");
    const auto& art = by_name(doc, "nvidia_driver_run");
    CHECK(art["downloadLocation"] == "https://example.test/NVIDIA-Linux-x86_64.run");
    CHECK(art["checksums"].size() == 2);
}

TEST_CASE("sbom: every element is related to the image, the image described by the document") {
    Fixture f;
    auto doc = bake::build_sbom(f.input(), {{"/opt/v", "pip", "23.0"}});
    std::map<std::string, std::string> relation_of; // element -> relationship with the image
    std::string described;
    for (const auto& r : doc["relationships"]) {
        if (r["spdxElementId"] == "SPDXRef-DOCUMENT") {
            CHECK(r["relationshipType"] == "DESCRIBES");
            described = r["relatedSpdxElement"];
        } else {
            CHECK(r["spdxElementId"] == "SPDXRef-Image-gpu-image");
            relation_of[r["relatedSpdxElement"]] = r["relationshipType"];
        }
    }
    CHECK(described == "SPDXRef-Image-gpu-image");
    CHECK(relation_of.size() + 1 == doc["packages"].size());
    CHECK(relation_of["SPDXRef-Artifact-nvidia-driver-run"] == "GENERATED_FROM");
    CHECK(relation_of["SPDXRef-BaseImage-base.qcow2"] == "DESCENDANT_OF");
    CHECK(relation_of["SPDXRef-pypi-pip-23.0"] == "CONTAINS");
}

TEST_CASE("sbom: Python distributions are read from each venv's dist-info METADATA") {
    fs::path root = fs::temp_directory_path() / "ccbake-test-sbom";
    fs::remove_all(root);
    auto put = [&](const std::string& inside, const std::string& text) {
        fs::create_directories((root / inside.substr(1)).parent_path());
        std::ofstream(root / inside.substr(1)) << text;
    };
    put("/opt/nv/venv/pyvenv.cfg", "home = /usr/bin\n");
    put("/opt/nv/venv/lib/python3.10/site-packages/nv_local_gpu_verifier-2.6.1.dist-info/METADATA",
        "Metadata-Version: 2.1\nName: nv-local-gpu-verifier\nVersion: 2.6.1\n\nName: not this\n");
    put("/opt/nv/venv/lib/python3.10/site-packages/pkg/sub.dist-info/METADATA",
        "Name: too-deep\nVersion: 1\n");
    // A dist-info outside any venv (the system's) is the Debian package's business.
    put("/usr/lib/python3/dist-packages/yaml-6.0.dist-info/METADATA", "Name: PyYAML\nVersion: 6\n");
    std::vector<target::ContentEntry> content;
    for (const auto& e : fs::recursive_directory_iterator(root))
        content.push_back({.path = "/" + e.path().lexically_relative(root).string(),
                           .type = e.is_regular_file() ? 'f' : 'd'});
    auto dists = bake::venv_distributions(root, content);
    REQUIRE(dists.size() == 1);
    CHECK(dists[0].venv == "/opt/nv/venv");
    CHECK(dists[0].name == "nv-local-gpu-verifier");
    CHECK(dists[0].version == "2.6.1");
    fs::remove_all(root);
}
