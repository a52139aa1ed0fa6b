#include "fetch/file_digest.h"

#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <memory>
#include <mutex>
#include <openssl/evp.h>
#include <queue>
#include <thread>
#include <unistd.h>
#include <vector>

#include "util/error.h"

namespace ccbake::fetch {

namespace {

constexpr size_t kBlock = 1 << 20;
constexpr size_t kBlocks = 4;

struct MdCtx {
    explicit MdCtx(const EVP_MD* md) : ctx(EVP_MD_CTX_new()) {
        if (!ctx || EVP_DigestInit_ex(ctx, md, nullptr) != 1) throw std::runtime_error("OpenSSL digest init failed");
    }
    ~MdCtx() { EVP_MD_CTX_free(ctx); }
    MdCtx(const MdCtx&) = delete;
    MdCtx& operator=(const MdCtx&) = delete;
    void update(const char* p, size_t n) { EVP_DigestUpdate(ctx, p, n); }
    std::string hex() {
        unsigned char buf[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        EVP_DigestFinal_ex(ctx, buf, &len);
        std::string out;
        for (unsigned int i = 0; i < len; ++i) out += fmt::format("{:02x}", buf[i]);
        return out;
    }
    EVP_MD_CTX* ctx;
};

// Blocks travel reader -> sha256 worker -> back to the reader's free list.
class Pipeline {
public:
    void push(size_t index, size_t len) {
        std::lock_guard lock(m_);
        filled_.push({index, len});
        cv_.notify_all();
    }
    // Blocks until a filled block arrives; len 0 means the end.
    std::pair<size_t, size_t> pop_filled() {
        std::unique_lock lock(m_);
        cv_.wait(lock, [&] { return !filled_.empty(); });
        auto v = filled_.front();
        filled_.pop();
        return v;
    }
    void release(size_t index) {
        std::lock_guard lock(m_);
        free_.push(index);
        cv_.notify_all();
    }
    size_t acquire() {
        std::unique_lock lock(m_);
        cv_.wait(lock, [&] { return !free_.empty(); });
        size_t i = free_.front();
        free_.pop();
        return i;
    }
    explicit Pipeline(size_t n) {
        for (size_t i = 0; i < n; ++i) free_.push(i);
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    std::queue<std::pair<size_t, size_t>> filled_;
    std::queue<size_t> free_;
};

}  // namespace

FileDigests digest_file(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw Error(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)),
                    "check the permissions of the cache directory");
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    std::vector<std::unique_ptr<char[]>> blocks;
    for (size_t i = 0; i < kBlocks; ++i) blocks.push_back(std::make_unique<char[]>(kBlock));
    Pipeline pipe(kBlocks);
    MdCtx md5(EVP_md5()), sha(EVP_sha256());
    std::thread sha_worker([&] {
        for (;;) {
            auto [index, len] = pipe.pop_filled();
            if (len == 0) return;
            sha.update(blocks[index].get(), len);
            pipe.release(index);
        }
    });
    // This thread reads a block and takes its md5, then hands it to the worker for sha256 and
    // goes on with the next block; the worker returns each block to the free list.
    FileDigests out;
    int read_errno = 0;
    for (;;) {
        size_t index = pipe.acquire();
        ssize_t n;
        do n = ::read(fd, blocks[index].get(), kBlock);
        while (n < 0 && errno == EINTR);
        if (n <= 0) {
            read_errno = n < 0 ? errno : 0;
            pipe.release(index);
            break;
        }
        md5.update(blocks[index].get(), size_t(n));
        out.size += std::uint64_t(n);
        pipe.push(index, size_t(n));
    }
    pipe.push(0, 0);
    sha_worker.join();
    ::close(fd);
    if (read_errno)
        throw Error(fmt::format("cannot read {}: {}", path.string(), std::strerror(read_errno)),
                    "the cache's disk may be failing; check it, or choose another --cache");
    out.md5 = md5.hex();
    out.sha256 = sha.hex();
    return out;
}

}  // namespace ccbake::fetch
