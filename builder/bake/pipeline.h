#pragma once
// `ccbake bake`: the pipeline, read top to bottom — preflight, fetch, stage, attach, steps,
// post-checks, manifest, publish — each a named, timed phase. The input is never written; an
// image output appears whole (rename) or not at all.
#include "fetch/fetch.h"
#include "recipe/recipe.h"

#include <filesystem>
#include <map>
#include <string>

namespace ccbake::bake {

class Report;

struct BakeOptions {
    std::filesystem::path image;   // --image IN (raw or qcow2)
    std::filesystem::path output;  // --output OUT
    std::string format;            // "raw" or "qcow2"
    std::filesystem::path rootfs;  // --rootfs DIR
    std::filesystem::path cache;   // artifact cache
    std::filesystem::path log_dir; // empty: CACHE/logs/RECIPE-TIME
    std::uint64_t disk_size = 0;   // --disk-size: wins over the recipe's base.disk_size
    bool offline = false;
    bool allow_unpinned = false; // accept artifacts with neither md5 nor lock entry
    bool json = false;           // --json: JSON events
    int verbose = 0;             // -v: each command a step runs, shown
    bool force = false;          // --force: bake even when OUT is up to date
    bool layer_cache = true;     // --no-layer-cache: false
};

// Each returns the exit code (0); failures throw ccbake::Error.
int bake_rootfs(const recipe::Recipe& r, const BakeOptions& options);
int bake_image(const recipe::Recipe& r, const BakeOptions& options);

// The fetch phase both pipelines share: every artifact verified in the cache.
std::map<std::string, fetch::Fetched> fetch_artifacts(const recipe::Recipe& r,
                                                      const BakeOptions& options, Report& report);

// The .debs apt downloads in images of `r`'s OS and version, kept across bakes:
// CACHE/apt/OS-VERSION/archives.
std::filesystem::path package_cache(const std::filesystem::path& cache, const recipe::Recipe& r);

// The layer cache's folder (bake/layers.h): CACHE/layers.
std::filesystem::path layer_cache_dir(const std::filesystem::path& cache);

// The default log folder for a bake of `r`.
std::filesystem::path default_log_dir(const std::filesystem::path& cache, const recipe::Recipe& r);

} // namespace ccbake::bake
