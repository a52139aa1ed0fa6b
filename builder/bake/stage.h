#pragma once
// The staged copy of the input, beside the output so publishing is a rename(2) on one file
// system. It is an unnamed file (O_TMPFILE) where the file system allows, so no crash — not
// even kill -9 — leaves it behind; elsewhere a hidden OUT.ccbake-stage-PID removed on unwind.
// Raw input is copied sparsely in the kernel (holes stay holes); qcow2 input is converted
// with qemu-img.
#include "image/probe.h"

#include <cstdint>
#include <filesystem>
#include <string>

namespace ccbake::bake {

class StagedImage {
  public:
    explicit StagedImage(const std::filesystem::path& output);
    ~StagedImage();
    StagedImage(const StagedImage&) = delete;
    StagedImage& operator=(const StagedImage&) = delete;

    int fd() const { return fd_; }
    // A path other processes (qemu-img, mtools) can open for the staged file.
    std::filesystem::path path() const;
    // Copies (raw) or converts (qcow2) the input.
    void fill_from(const std::filesystem::path& input, const image::ImageFile& info);
    // Moves the staged disk to `output` by rename(2): raw as it is, qcow2 compressed with
    // `compression` ("zstd" or "zlib") into a partial file first. Throws ccbake::Error.
    void publish(const std::filesystem::path& output, const std::string& format,
                 const std::string& compression);

  private:
    std::filesystem::path dir_, named_; // named_: set only when O_TMPFILE is unavailable
    int fd_ = -1;
};

// Free space needed beside the output, and a check that says how much is missing.
std::uint64_t space_needed(const image::ImageFile& in, std::uint64_t artifacts_bytes,
                           const std::string& format);
void check_free_space(const std::filesystem::path& output, std::uint64_t needed);

} // namespace ccbake::bake
