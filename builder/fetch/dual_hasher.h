#pragma once
// Streaming md5 + sha256 on two threads: the caller's thread takes md5 while a worker takes
// sha256 of the same 1 MiB blocks, so both digests cost about the wall time of md5 alone.
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
    // Finishes both digests; the hasher cannot be fed afterwards.
    void finish();
    const std::string& md5_hex() const { return md5_; }
    const std::string& sha256_hex() const { return sha256_; }
    std::uint64_t bytes() const { return bytes_; }

private:
    struct Digests;
    void hand_over();  // current block: md5 here, then to the worker for sha256
    size_t acquire();
    void worker();

    std::unique_ptr<Digests> digests_;
    std::vector<std::unique_ptr<unsigned char[]>> blocks_;
    size_t current_ = 0, fill_ = 0;
    std::mutex m_;
    std::condition_variable cv_;
    std::queue<std::pair<size_t, size_t>> filled_;  // (block, length); length 0 ends
    std::queue<size_t> free_;
    std::thread thread_;
    bool finished_ = false;
    std::string md5_, sha256_;
    std::uint64_t bytes_ = 0;
};

}  // namespace ccbake::fetch
