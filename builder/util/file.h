#pragma once
// Whole-file reads and writes. A file written here appears whole or not at all (ccache's AtomicFile
// is the model): the bytes go to a temporary file beside the destination, created exclusively and
// never through a link; commit() flushes it (fsync), renames it over the destination and flushes
// the directory. Destroyed without commit(), it removes the temporary file and leaves the
// destination as it was. Every file ccbake writes whole (cache stamps, the lock, the manifest,
// rendered files, files in an image, the guest report) goes through here. Throws ccbake::Error.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace ccbake::util {

class AtomicFile {
  public:
    // The destination `name` in the directory `dir_fd`, which the caller keeps open until
    // commit() or destruction; `shown` names the file in errors.
    AtomicFile(int dir_fd, std::string name, mode_t mode, std::string shown);
    // The destination `path`; missing parent directories are created (0755).
    explicit AtomicFile(const std::filesystem::path& path, mode_t mode = 0644);
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    void write(std::string_view data);
    // Appends the bytes of a host file.
    void write_file(const std::filesystem::path& source);
    // The temporary file's descriptor (e.g. for fchown before commit()).
    int fd() const { return fd_; }
    // Replaces the destination with what was written.
    void commit();

  private:
    void open_temporary();
    [[noreturn]] void fail(const std::string& what, int err) const;

    int dir_fd_ = -1;
    bool own_dir_ = false;
    std::string name_, tmp_, shown_;
    mode_t mode_;
    int fd_ = -1;
};

// Writes `content` to `path` through an AtomicFile.
void write_file_atomic(const std::filesystem::path& path, std::string_view content,
                       mode_t mode = 0644);

// Reads `fd` to its end in blocks, handing each to `sink`, which returns false to stop early.
// `what` names the file in errors.
void read_blocks(int fd, const std::string& what,
                 const std::function<bool(std::string_view)>& sink);

// The whole file; nullopt when it does not exist. Throws ccbake::Error when it cannot be read.
std::optional<std::string> read_file(const std::filesystem::path& path);

} // namespace ccbake::util
