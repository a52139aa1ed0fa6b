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

std::string sha256_file(const fs::path& path, const std::atomic<bool>* stop) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
    std::vector<char> buf(1 << 20);
    ssize_t n;
    while ((n = ::read(fd, buf.data(), buf.size())) > 0) {
        if (stop && stop->load()) break;
        EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(n));
    }
    int err = n < 0 ? errno : 0;
    ::close(fd);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    if (err) throw Error(fmt::format("cannot read {}: {}", path.string(), std::strerror(err)));
    if (stop && stop->load()) return "";
    return util::to_hex(md, len);
}

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
            std::string digest = sha256_file(file, &stop_);
            if (!digest.empty() && !key.empty() && key == cache_key(file)) {
                try {
                    util::write_file_atomic(remembered, digest + "\n");
                } catch (const Error&) {
                    // A read-only cache only costs the next bake the hashing.
                }
            }
            return digest;
        });
}

BackgroundDigest::~BackgroundDigest() {
    stop_ = true;
    if (result_.valid()) result_.wait();
}

std::string BackgroundDigest::get() {
    return result_.get();
}

} // namespace ccbake::bake
