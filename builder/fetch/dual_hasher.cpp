#include "fetch/dual_hasher.h"

#include "util/digest.h"

#include <cstring>
#include <openssl/evp.h>
#include <stdexcept>

namespace ccbake::fetch {

namespace {

constexpr size_t kBlock = 1 << 20;
constexpr size_t kBlocks = 4;

} // namespace

struct DualHasher::Lane {
    explicit Lane(const EVP_MD* md) : ctx(EVP_MD_CTX_new()) {
        if (!ctx || EVP_DigestInit_ex(ctx, md, nullptr) != 1)
            throw std::runtime_error("OpenSSL digest init failed");
    }
    ~Lane() { EVP_MD_CTX_free(ctx); }
    Lane(const Lane&) = delete;
    Lane& operator=(const Lane&) = delete;
    std::string final_hex() {
        unsigned char buf[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (EVP_DigestFinal_ex(ctx, buf, &len) != 1)
            throw std::runtime_error("OpenSSL digest failed");
        return util::to_hex(buf, len);
    }
    EVP_MD_CTX* ctx;
    std::queue<std::pair<size_t, size_t>> queue; // (block, length); length 0 ends the lane
    std::thread thread;
};

DualHasher::DualHasher()
    : pending_(kBlocks, 0), md5_lane_(std::make_unique<Lane>(EVP_md5())),
      sha_lane_(std::make_unique<Lane>(EVP_sha256())) {
    for (size_t i = 0; i < kBlocks; ++i) {
        blocks_.push_back(std::make_unique<unsigned char[]>(kBlock));
        if (i) free_.push(i);
    }
    md5_lane_->thread = std::thread([this] { lane_main(*md5_lane_); });
    sha_lane_->thread = std::thread([this] { lane_main(*sha_lane_); });
}

DualHasher::~DualHasher() {
    if (!finished_) stop_lanes();
}

void DualHasher::lane_main(Lane& lane) {
    for (;;) {
        std::pair<size_t, size_t> item;
        {
            std::unique_lock lock(m_);
            cv_.wait(lock, [&] { return !lane.queue.empty(); });
            item = lane.queue.front();
            lane.queue.pop();
        }
        if (item.second == 0) return;
        EVP_DigestUpdate(lane.ctx, blocks_[item.first].get(), item.second);
        {
            std::lock_guard lock(m_);
            if (--pending_[item.first] == 0) free_.push(item.first);
        }
        cv_.notify_all();
    }
}

void DualHasher::stop_lanes() {
    {
        std::lock_guard lock(m_);
        md5_lane_->queue.push({0, 0});
        sha_lane_->queue.push({0, 0});
    }
    cv_.notify_all();
    md5_lane_->thread.join();
    sha_lane_->thread.join();
}

void DualHasher::hand_over() {
    if (fill_ == 0) return;
    std::unique_lock lock(m_);
    pending_[current_] = 2;
    md5_lane_->queue.push({current_, fill_});
    sha_lane_->queue.push({current_, fill_});
    cv_.notify_all();
    fill_ = 0;
    cv_.wait(lock, [&] { return !free_.empty(); });
    current_ = free_.front();
    free_.pop();
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

unsigned char* DualHasher::space(size_t& capacity) {
    capacity = kBlock - fill_;
    return blocks_[current_].get() + fill_;
}

void DualHasher::commit(size_t n) {
    fill_ += n;
    bytes_ += n;
    if (fill_ == kBlock) hand_over();
}

void DualHasher::finish() {
    hand_over();
    stop_lanes();
    finished_ = true;
    md5_ = md5_lane_->final_hex();
    sha256_ = sha_lane_->final_hex();
}

} // namespace ccbake::fetch
