#include "util/digest.h"

#include "util/error.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <stdexcept>
#include <unistd.h>
#include <vector>

namespace ccbake::util {

std::string to_hex(const unsigned char* bytes, unsigned int len) {
    static const char* digits = "0123456789abcdef";
    std::string out(len * 2, '0');
    for (unsigned int i = 0; i < len; ++i) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0xf];
    }
    return out;
}

namespace {

struct CtxDeleter {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_MD_CTX, CtxDeleter>;

Ctx new_ctx(const EVP_MD* md) {
    Ctx ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1)
        throw std::runtime_error("OpenSSL could not start a digest");
    return ctx;
}

std::string final_hex(EVP_MD_CTX* ctx) {
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx, buf, &len) != 1) throw std::runtime_error("OpenSSL digest failed");
    return to_hex(buf, len);
}

} // namespace

struct Hasher::Impl {
    Ctx md5 = new_ctx(EVP_md5());
    Ctx sha256 = new_ctx(EVP_sha256());
};

Hasher::Hasher() : impl_(std::make_unique<Impl>()) {}
Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::update(const void* data, size_t size) {
    EVP_DigestUpdate(impl_->md5.get(), data, size);
    EVP_DigestUpdate(impl_->sha256.get(), data, size);
    bytes_ += size;
}

void Hasher::finish() {
    md5_ = final_hex(impl_->md5.get());
    sha256_ = final_hex(impl_->sha256.get());
}

struct Sha384::Impl {
    Ctx ctx = new_ctx(EVP_sha384());
};
Sha384::Sha384() : impl_(std::make_unique<Impl>()) {}
Sha384::~Sha384() = default;
void Sha384::update(const void* data, size_t size) {
    EVP_DigestUpdate(impl_->ctx.get(), data, size);
}
std::string Sha384::digest() {
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(impl_->ctx.get(), buf, &len) != 1)
        throw std::runtime_error("OpenSSL digest failed");
    return std::string(reinterpret_cast<const char*>(buf), len);
}
std::string sha384(std::string_view data) {
    Sha384 h;
    h.update(data);
    return h.digest();
}

std::string sha256_hex(std::string_view data) {
    Ctx ctx = new_ctx(EVP_sha256());
    EVP_DigestUpdate(ctx.get(), data.data(), data.size());
    return final_hex(ctx.get());
}

std::string sha256_fd(int fd, const std::string& what, const std::atomic<bool>* stop) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
    std::vector<char> buf(1 << 20);
    while (true) {
        if (stop && stop->load()) return "";
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw Error(fmt::format("cannot read {}: {}", what, std::strerror(errno)));
        if (n == 0) break;
        EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(n));
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_DigestFinal_ex(ctx.get(), md, &len);
    return to_hex(md, len);
}

std::string sha256_file(const std::filesystem::path& path, const std::atomic<bool>* stop) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
    try {
        std::string d = sha256_fd(fd, path.string(), stop);
        ::close(fd);
        return d;
    } catch (...) {
        ::close(fd);
        throw;
    }
}

} // namespace ccbake::util
