#pragma once
// Streaming md5 + sha256 with OpenSSL EVP: feed bytes as they arrive, read hex digests at
// the end. Memory is constant whatever the input size.
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace ccbake::util {

class Hasher {
  public:
    Hasher();
    ~Hasher();
    Hasher(Hasher&&) noexcept;
    Hasher& operator=(Hasher&&) noexcept;
    Hasher(const Hasher&) = delete;
    Hasher& operator=(const Hasher&) = delete;

    void update(const void* data, size_t size);
    void update(std::string_view s) { update(s.data(), s.size()); }
    // Finishes both digests; the hasher cannot be fed afterwards.
    void finish();
    const std::string& md5_hex() const { return md5_; }
    const std::string& sha256_hex() const { return sha256_; }
    unsigned long long bytes() const { return bytes_; }

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::string md5_, sha256_;
    unsigned long long bytes_ = 0;
};

// Streaming SHA-384, the digest of TDX's measurement registers; digest() returns the 48 raw
// bytes and ends the stream.
class Sha384 {
  public:
    Sha384();
    ~Sha384();
    Sha384(const Sha384&) = delete;
    Sha384& operator=(const Sha384&) = delete;
    void update(const void* data, size_t size);
    void update(std::string_view s) { update(s.data(), s.size()); }
    std::string digest();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};
// The raw 48-byte SHA-384 of `data`.
std::string sha384(std::string_view data);

std::string sha256_hex(std::string_view data);
// sha256 of what `fd` reads to its end; `what` names it in errors; polls `stop` and returns ""
// when it is set.
std::string sha256_fd(int fd, const std::string& what, const std::atomic<bool>* stop = nullptr);
// sha256 of a whole file (sha256_fd of it). Throws ccbake::Error when it cannot be read.
std::string sha256_file(const std::filesystem::path& path, const std::atomic<bool>* stop = nullptr);
// Lower-case hex of raw digest bytes.
std::string to_hex(const unsigned char* bytes, unsigned int len);

} // namespace ccbake::util
