#include "bake/digest.h"

#include "util/digest.h"
#include "util/error.h"
#include "util/file.h"
#include "util/strings.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace ccbake::bake {

namespace {

// Identity of the file's current content as far as the kernel tells: device, inode, size,
// modification and change times (ctime cannot be set by users).
std::string cache_key(const fs::path& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) return "";
    return fmt::format("{:x}-{:x}-{:x}-{}.{:09}-{}.{:09}", st.st_dev, st.st_ino, st.st_size,
                       st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_ctim.tv_sec,
                       st.st_ctim.tv_nsec);
}

} // namespace

BackgroundDigest::BackgroundDigest(fs::path file, fs::path cache) {
    result_ =
        std::async(std::launch::async, [this, file = std::move(file), cache = std::move(cache)] {
            std::string key = cache_key(file);
            fs::path remembered = cache / "image-digests" / key;
            if (!key.empty()) {
                std::string known;
                try {
                    known = util::trim(util::read_file(remembered).value_or(""));
                } catch (const Error&) {
                    // An unreadable entry is hashed again.
                }
                if (known.size() == 64 && util::is_hex(known)) return known;
            }
            std::string digest = util::sha256_file(file, &stop_);
            if (!digest.empty() && !key.empty() && key == cache_key(file)) {
                try {
                    util::write_file_atomic(remembered, digest + "\n");
                } catch (const Error&) {
                    // A read-only cache only costs the next bake the hashing.
                }
            }
            return digest;
        }).share();
}

BackgroundDigest::~BackgroundDigest() {
    stop_ = true;
    if (result_.valid()) result_.wait();
}

std::string BackgroundDigest::get() {
    return result_.get();
}

} // namespace ccbake::bake
