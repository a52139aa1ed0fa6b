#pragma once
// The input image's sha256 for the manifest, computed on a background thread while the bake
// goes on (a multi-GiB disk takes seconds to hash) and remembered in the cache, keyed by the
// file's identity and change times, so baking the same base again costs nothing.
#include <atomic>
#include <filesystem>
#include <future>
#include <string>

namespace ccbake::bake {

class BackgroundDigest {
  public:
    BackgroundDigest(std::filesystem::path file, std::filesystem::path cache);
    ~BackgroundDigest(); // stops the hashing early if nobody waited for it
    BackgroundDigest(const BackgroundDigest&) = delete;
    BackgroundDigest& operator=(const BackgroundDigest&) = delete;

    // Waits for the digest (as often as asked). Throws ccbake::Error when the file could not be
    // read.
    std::string get();

  private:
    std::atomic<bool> stop_{false};
    std::shared_future<std::string> result_;
};

} // namespace ccbake::bake
