#pragma once
// Streaming md5 + sha256 on two worker threads over the same 1 MiB blocks: both digests cost
// about the wall time of md5 alone, and the feeding thread (e.g. the transfer loop) only copies.
// Memory is fixed (four blocks) whatever the input size. Same interface as util::Hasher.
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

namespace ccbake::fetch {

class DualHasher {
  public:
    DualHasher();
    ~DualHasher();
    DualHasher(const DualHasher&) = delete;
    DualHasher& operator=(const DualHasher&) = delete;

    void update(const void* data, size_t size);
    // Zero-copy feeding (e.g. read(2) straight into the block): write at most `capacity`
    // bytes at the returned address, then commit() how many were written.
    unsigned char* space(size_t& capacity);
    void commit(size_t n);
    // Finishes both digests; the hasher cannot be fed afterwards.
    void finish();
    const std::string& md5_hex() const { return md5_; }
    const std::string& sha256_hex() const { return sha256_; }
    std::uint64_t bytes() const { return bytes_; }

  private:
    struct Lane;      // one digest, its queue of blocks and its thread
    void hand_over(); // the current block goes to both lanes; take a free one
    void stop_lanes();
    void lane_main(Lane& lane);

    std::vector<std::unique_ptr<unsigned char[]>> blocks_;
    std::vector<int> pending_; // lanes still hashing each block
    size_t current_ = 0, fill_ = 0;
    std::mutex m_;
    std::condition_variable cv_;
    std::queue<size_t> free_;
    std::unique_ptr<Lane> md5_lane_, sha_lane_;
    bool finished_ = false;
    std::string md5_, sha256_;
    std::uint64_t bytes_ = 0;
};

} // namespace ccbake::fetch
