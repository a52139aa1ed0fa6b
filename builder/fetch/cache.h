#pragma once
// The content-addressed artifact cache: verified files named by their sha256, stamps that
// prove a file unchanged since it was verified, indexes from md5 (or URL) to sha256, resumable
// *.partial downloads, and one lock file per artifact key. Layout: docs/artifacts.md.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ccbake::fetch {

// What is known about a file before it is downloaded; selects its cache key.
struct Expected {
    std::string md5, sha256; // "" when unknown
    std::uint64_t size = 0;  // 0 when unknown
    std::string url;         // identifies artifacts with no digest at all (--allow-unpinned)
};

struct Stamp {
    std::string md5, sha256;
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0, ctime_ns = 0;
    std::uint64_t inode = 0;
    std::int64_t used = 0;          // unix seconds of the last use (for gc)
    std::vector<std::string> names; // artifact names it was fetched as
};

class Cache {
  public:
    explicit Cache(std::filesystem::path root);
    const std::filesystem::path& root() const { return root_; }

    // "sha256-HEX", else "md5-HEX", else "url-SHA256(URL)": names the partial and the lock.
    static std::string key(const Expected& e);
    std::filesystem::path object(const std::string& sha256) const;
    std::filesystem::path partial(const std::string& key) const;
    std::filesystem::path lock_path(const std::string& key) const;
    std::filesystem::path tmp_dir() const;

    // The sha256 of the cached file that matches `e` (through an index when only md5 or the
    // URL is known), or nullopt. Does not read the file.
    std::optional<std::string> lookup(const Expected& e) const;
    std::optional<Stamp> stamp(const std::string& sha256) const;
    // True when the object's size, mtime, ctime and inode still match its stamp.
    bool stamp_fresh(const std::string& sha256) const;

    // Moves a verified, fsynced file into place, writes its stamp and the index entries for
    // `e`, and fsyncs the directories. `name` is recorded for `cache ls`.
    std::filesystem::path insert(const std::filesystem::path& verified_file, const std::string& md5,
                                 const std::string& sha256, const Expected& e,
                                 const std::string& name);
    // Records a use (for gc) and re-stamps a re-verified object.
    void touch(const std::string& sha256, const std::string& name);
    void restamp(const std::string& sha256, const std::string& md5, const std::string& name);
    // Removes an object that failed re-verification, with its stamp.
    void evict(const std::string& sha256);

    std::vector<Stamp> list() const; // every object with a stamp, oldest use first

  private:
    void write_stamp(const std::string& sha256, Stamp s) const;
    void ensure_dirs() const;
    std::filesystem::path root_;
};

// An exclusive advisory lock (flock) on a file, released by the destructor.
class FileLock {
  public:
    // Takes the lock when it is free; `held()` says whether it was.
    static FileLock try_lock(const std::filesystem::path& path);
    // Waits for the lock.
    static FileLock lock(const std::filesystem::path& path);
    FileLock() = default;
    FileLock(FileLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    FileLock& operator=(FileLock&& o) noexcept;
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;
    ~FileLock();
    bool held() const { return fd_ >= 0; }

  private:
    explicit FileLock(int fd) : fd_(fd) {}
    int fd_ = -1;
};

} // namespace ccbake::fetch
