#pragma once
// The provenance manifest: what an image is and how it was made (recipe and its hash, ccbake
// version, base image digest, every artifact with URL/md5/sha256/size, every step with its
// hash and what it changed, the Debian packages it ends with, the digest of its content and of
// its SBOM).
// Written into the image at /usr/share/ccbake/manifest.json and beside the output. `created`
// honours SOURCE_DATE_EPOCH. Fields: docs/bake.md.
#include "bake/apply.h"
#include "bake/packages.h"
#include "fetch/fetch.h"
#include "recipe/recipe.h"

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ccbake::bake {

inline constexpr const char* kManifestPath = "/usr/share/ccbake/manifest.json";

struct BaseImage {
    std::string kind;   // "raw", "qcow2" or "rootfs"
    std::string name;   // file or directory name (no host path)
    std::string sha256; // of the input file; "" for a root directory
    std::uint64_t size = 0;
};

struct ManifestInput {
    const recipe::Recipe& recipe;
    const std::map<std::string, fetch::Fetched>& artifacts;
    BaseImage base;
    std::string os, kernel; // what preflight found
    const std::vector<StepOutcome>& steps;
    std::string output_format; // "raw", "qcow2" or "rootfs"
    struct Disk {
        std::uint64_t input_size = 0, size = 0; // bytes; 0 for a root directory
    } disk;
    // The content digest of the baked root (bake/content.h); empty when not computed.
    struct Content {
        std::string sha256;
        std::size_t files = 0;
        std::string list; // file name of the list beside the output; "" when none is written
        std::vector<std::string> normalised; // what the bake removed so that two bakes agree
    } content;
    std::vector<DebPackage> packages; // installed in the baked root
    std::string sbom_sha256;          // of the SBOM written beside it (bake/sbom.h); "" when none
    nlohmann::json measurements;      // bake/measure_image.h; null when not measured
};

// `created` as ISO 8601 UTC: SOURCE_DATE_EPOCH when set (a malformed value is a UsageError),
// else now.
std::string creation_time();
nlohmann::json build_manifest(const ManifestInput& in);

} // namespace ccbake::bake
