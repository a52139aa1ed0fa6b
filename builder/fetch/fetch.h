#pragma once
// Downloads and verifies a recipe's artifacts into the content-addressed cache. Nothing
// unverified enters the cache: bytes stream to *.partial while md5 and sha256 are computed,
// and the file is renamed into place only when every known digest matches.
#include "recipe/recipe.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

namespace ccbake::fetch {

struct Options {
    std::filesystem::path cache; // cache root
    bool offline = false;        // use only the cache
    int jobs = 4;                // parallel transfers
    bool reverify = false;       // re-hash cached files even when their stamp is fresh
    bool allow_unpinned = false; // accept artifacts with neither md5 nor a lock entry
    bool json = false;           // machine-readable progress events
    int tries = 4;               // attempts per URL on network errors, 5xx and 429
    long low_speed_time = 30;    // seconds below 1 KiB/s that abort an attempt
    long connect_timeout = 30;   // seconds
    bool repin = false;          // download again what only a URL names (lock --update, which
                                 // loads the recipe without RECIPE.lock's pins)
};

struct Fetched {
    std::filesystem::path path; // verified file in the cache
    std::string md5, sha256;
    std::uint64_t size = 0;
    bool downloaded = false; // false: served from the cache
};

// Makes every artifact of the recipe available and verified; throws ccbake::Error naming
// the artifact, URL, expected and actual digest on a mismatch. Expected digests come from the
// recipe as loaded: its md5, sha256 and size, RECIPE.lock's pins applied (cli/app.h).
std::map<std::string, Fetched> ensure_artifacts(const recipe::Recipe& r, const Options& options);

// Throws UsageError listing the artifacts with neither an md5 in the recipe nor an entry in
// RECIPE.lock, unless options.allow_unpinned.
void check_pinned(const recipe::Recipe& r, const Options& options);

// Downloads every artifact again, ignoring the cache and checking no digest, into a scratch
// directory under the cache that is removed afterwards: what upstream serves now (lock --check).
// Fetched::path is empty. Throws when a download fails.
std::map<std::string, Fetched> download_fresh(const recipe::Recipe& r, const Options& options);

// For `plan`: "cached", "not cached", ...
std::function<std::string(const recipe::Artifact&)> cache_probe(const std::filesystem::path& cache);

} // namespace ccbake::fetch
