#pragma once
// The software bill of materials of a baked image: an SPDX 2.3 JSON document that lists every
// Debian package installed in the root (name, version, architecture, source package, purl),
// every artifact the recipe fetched (URL, md5, sha256, size), every Python distribution in
// each venv of the root (name, version, the venv), the base image, and how each relates to
// the image (the document DESCRIBES the image; the image CONTAINS the packages and
// distributions, was GENERATED_FROM the artifacts and is a DESCENDANT_OF the base image).
// Written into the image at /usr/share/ccbake/sbom.spdx.json and beside an image output as
// OUT.spdx.json. Field by field: docs/bake.md, "Software bill of materials".
#include "bake/manifest.h"
#include "target/content.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ccbake::bake {

inline constexpr const char* kSbomPath = "/usr/share/ccbake/sbom.spdx.json";

struct PythonDist {
    std::string venv; // the venv's folder inside the root, e.g. "/opt/nvtrust/venv"
    std::string name, version;
};

// The distributions installed in each venv of the root: every folder with a pyvenv.cfg, and in
// it every lib/pythonX.Y/site-packages/*.dist-info/METADATA (its Name and Version), found in
// the root's content list and read inside the root. Sorted by venv, then name.
std::vector<PythonDist> venv_distributions(const std::filesystem::path& root,
                                           const std::vector<target::ContentEntry>& content);

// The document. `in.content.sha256` names it (documentNamespace) and is quoted on the image.
nlohmann::json build_sbom(const ManifestInput& in, const std::vector<PythonDist>& dists);

// OUT.spdx.json: the SBOM beside an image output.
std::filesystem::path sbom_path_beside(const std::filesystem::path& output);

} // namespace ccbake::bake
