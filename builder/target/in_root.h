#pragma once
// Paths inside an untrusted root file system, resolved as a chroot into it sees them and never
// outside it. The kernel walks every directory with openat2(RESOLVE_IN_ROOT), so an absolute or
// `..` symlink in the image lands inside the root, never on the host; the last component is
// handled with *at() calls on the resolved parent, which do not follow it. Every host-side write,
// rename, removal, device node, link and mount point ccbake makes in a target goes through here
// (an input image is untrusted data: nothing in it may steer a host-side operation). Throws
// ccbake::Error.
#include "util/file.h"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <sys/types.h>

namespace ccbake::target {

// An owned file descriptor.
class Fd {
  public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd();
    Fd(Fd&& o) noexcept : fd_(o.release()) {}
    Fd& operator=(Fd&& o) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release() {
        int f = fd_;
        fd_ = -1;
        return f;
    }
    // "/proc/self/fd/N": a path for calls that take no descriptor (mount(2)); it names the
    // very object the descriptor holds, so nothing is resolved again.
    std::string proc_path() const;

  private:
    int fd_ = -1;
};

// Host path of `inside` (an absolute path in the image): every directory on the way resolved
// within `root` (symlinks followed as the chroot follows them), the last component appended as
// it is, or also resolved with `follow_last` (a dangling symlink then names its target). Parts
// that do not exist yet are appended unresolved: they cannot be links.
std::filesystem::path resolve_in_root(const std::filesystem::path& root, const std::string& inside,
                                      bool follow_last = false);

// An O_PATH descriptor of `inside` resolved in `root` (the last component followed only with
// `follow_last`); empty when it does not exist.
Fd open_in_root(const std::filesystem::path& root, const std::string& inside, bool follow_last);

// Creates the directory `inside` and its parents (mode `mode`, owned by the caller) within
// `root`; returns a descriptor of it. A dangling symlink on the way gets its target created.
Fd make_dirs_in_root(const std::filesystem::path& root, const std::string& inside,
                     mode_t mode = 0755);

// Replaces `inside` atomically with what `fill` writes into a util::AtomicFile in its resolved
// parent directory (created when missing): the path is replaced, never written through, even
// when it is a symlink.
void replace_in_root(const std::filesystem::path& root, const std::string& inside, mode_t mode,
                     const std::function<void(util::AtomicFile&)>& fill);
// replace_in_root with `content`.
void write_in_root(const std::filesystem::path& root, const std::string& inside,
                   const std::string& content, mode_t mode = 0644);

// The file's content, or nullopt when it does not exist (symlinks followed in the root).
std::optional<std::string> read_in_root(const std::filesystem::path& root,
                                        const std::string& inside);

// lstat of `inside` (not following the last component); nullopt when absent.
std::optional<struct ::stat> lstat_in_root(const std::filesystem::path& root,
                                           const std::string& inside);

// Renames `from` to `to`, both in the image (each parent resolved in the root).
void rename_in_root(const std::filesystem::path& root, const std::string& from,
                    const std::string& to);
// Removes a file, link or empty directory; false when it did not exist.
bool remove_in_root(const std::filesystem::path& root, const std::string& inside);
// Makes `inside` a symlink to `link_target` (text, not resolved), replacing what was there.
void symlink_in_root(const std::filesystem::path& root, const std::string& link_target,
                     const std::string& inside);
// Creates a device node (or an empty regular file for S_IFREG) at `inside`.
void mknod_in_root(const std::filesystem::path& root, const std::string& inside, mode_t mode,
                   dev_t dev);

} // namespace ccbake::target
