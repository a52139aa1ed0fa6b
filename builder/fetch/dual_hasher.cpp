#include "fetch/dual_hasher.h"

#include <cstring>
#include <openssl/evp.h>
#include <stdexcept>

namespace ccbake::fetch {

namespace {

constexpr size_t kBlock = 1 << 20;
constexpr size_t kBlocks = 4;

struct Md {
    explicit Md(const EVP_MD* md) : ctx(EVP_MD_CTX_new()) {
        if (!ctx || EVP_DigestInit_ex(ctx, md, nullptr) != 1) throw std::runtime_error("OpenSSL digest init failed");
    }
    ~Md() { EVP_MD_CTX_free(ctx); }
    Md(const Md&) = delete;
    Md& operator=(const Md&) = delete;
    std::string hex() {
        static const char* digits = "0123456789abcdef";
        unsigned char buf[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (EVP_DigestFinal_ex(ctx, buf, &len) != 1) throw std::runtime_error("OpenSSL digest failed");
        std::string out(len * 2, '0');
        for (unsigned int i = 0; i < len; ++i) {
            out[2 * i] = digits[buf[i] >> 4];
            out[2 * i + 1] = digits[buf[i] & 0xf];
        }
        return out;
    }
    EVP_MD_CTX* ctx;
};

}  // namespace

struct DualHasher::Digests {
    Md md5{EVP_md5()};
    Md sha256{EVP_sha256()};
};

DualHasher::DualHasher() : digests_(std::make_unique<Digests>()) {
    for (size_t i = 0; i < kBlocks; ++i) {
        blocks_.push_back(std::make_unique<unsigned char[]>(kBlock));
        if (i) free_.push(i);
    }
    current_ = 0;
    thread_ = std::thread([this] { worker(); });
}

DualHasher::~DualHasher() {
    if (!finished_) {
        {
            std::lock_guard lock(m_);
            filled_.push({0, 0});
        }
        cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
}

void DualHasher::worker() {
    for (;;) {
        std::pair<size_t, size_t> item;
        {
            std::unique_lock lock(m_);
            cv_.wait(lock, [&] { return !filled_.empty(); });
            item = filled_.front();
            filled_.pop();
        }
        if (item.second == 0) return;
        EVP_DigestUpdate(digests_->sha256.ctx, blocks_[item.first].get(), item.second);
        {
            std::lock_guard lock(m_);
            free_.push(item.first);
        }
        cv_.notify_all();
    }
}

size_t DualHasher::acquire() {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return !free_.empty(); });
    size_t i = free_.front();
    free_.pop();
    return i;
}

void DualHasher::hand_over() {
    if (fill_ == 0) return;
    EVP_DigestUpdate(digests_->md5.ctx, blocks_[current_].get(), fill_);
    {
        std::lock_guard lock(m_);
        filled_.push({current_, fill_});
    }
    cv_.notify_all();
    fill_ = 0;
    current_ = acquire();
}

void DualHasher::update(const void* data, size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    bytes_ += size;
    while (size > 0) {
        size_t n = std::min(size, kBlock - fill_);
        std::memcpy(blocks_[current_].get() + fill_, p, n);
        fill_ += n;
        p += n;
        size -= n;
        if (fill_ == kBlock) hand_over();
    }
}

void DualHasher::finish() {
    hand_over();
    {
        std::lock_guard lock(m_);
        filled_.push({0, 0});
    }
    cv_.notify_all();
    thread_.join();
    finished_ = true;
    md5_ = digests_->md5.hex();
    sha256_ = digests_->sha256.hex();
}

}  // namespace ccbake::fetch
