#include "bake/verify.h"

#include "bake/content.h"
#include "bake/stage.h"
#include "image/loop.h"
#include "image/namespace.h"
#include "image/probe.h"
#include "util/error.h"
#include "util/file.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sys/mount.h>
#include <unistd.h>

namespace fs = std::filesystem;
using nlohmann::json;

namespace ccbake::bake {

namespace {

struct Expected {
    std::string sha256;
    std::optional<std::vector<target::ContentEntry>> list; // when the list is beside
    fs::path list_path;
};

Expected read_manifest(const fs::path& path) {
    auto text = util::read_file(path);
    if (!text)
        throw UsageError(fmt::format("no manifest {}", path.string()),
                         "give the manifest the bake wrote beside the image with --manifest");
    json m = json::parse(*text, nullptr, false);
    if (m.is_discarded() || !m.is_object())
        throw UsageError(fmt::format("{} is not a ccbake manifest (not JSON)", path.string()));
    if (!m.contains("content") || !m["content"].contains("sha256") ||
        !m["content"]["sha256"].is_string())
        throw UsageError(fmt::format("{} records no content digest", path.string()),
                         "bake the image again with this version of ccbake");
    Expected e{m["content"]["sha256"].get<std::string>(), std::nullopt, {}};
    if (m["content"].contains("list") && m["content"]["list"].is_string()) {
        e.list_path = path.parent_path() / m["content"]["list"].get<std::string>();
        if (auto list = util::read_file(e.list_path)) e.list = target::parse_content(*list);
    }
    return e;
}

// The image's root file system mounted read-only in the private namespace; a qcow2 is read
// through a raw scratch copy.
class ReadOnlyRoot {
  public:
    explicit ReadOnlyRoot(const fs::path& image) {
        const std::string what = image.string();
        image::ImageFile info = image::probe_image_file(image);
        fs::path raw = image;
        if (info.format == image::ImageFormat::Qcow2) {
            const char* tmp = std::getenv("TMPDIR");
            staged_ = std::make_unique<StagedImage>(fs::path(tmp && *tmp ? tmp : "/var/tmp") /
                                                    "ccbake-verify");
            staged_->fill_from(image, info);
            raw = staged_->path();
        } else {
            fd_ = ::open(image.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd_ < 0)
                throw PreflightError(fmt::format("cannot read {}: {}", what, std::strerror(errno)));
        }
        image::DiskLayout layout = image::check_disk_layout(raw, what);
        loop_ = std::make_unique<image::LoopDevice>(staged_ ? staged_->fd() : fd_,
                                                    layout.root.offset, layout.root.size, true);
        root_ = image::private_workspace() / "verify-root";
        fs::create_directories(root_);
        // noload: an unclean journal is not replayed, so not a byte of the image changes.
        if (::mount(loop_->path().c_str(), root_.c_str(), "ext4", MS_RDONLY, "noload") != 0)
            throw PreflightError(fmt::format("cannot mount the root file system of {} "
                                             "(partition {}, ext4) read-only: {}",
                                             what, layout.root.number, std::strerror(errno)));
        mounted_ = true;
        loop_->close();
    }
    ~ReadOnlyRoot() {
        if (mounted_) ::umount2(root_.c_str(), MNT_DETACH);
        loop_.reset();
        if (fd_ >= 0) ::close(fd_);
    }
    ReadOnlyRoot(const ReadOnlyRoot&) = delete;
    ReadOnlyRoot& operator=(const ReadOnlyRoot&) = delete;
    const fs::path& root() const { return root_; }

  private:
    std::unique_ptr<StagedImage> staged_;
    std::unique_ptr<image::LoopDevice> loop_;
    fs::path root_;
    int fd_ = -1;
    bool mounted_ = false;
};

} // namespace

int verify(const VerifyOptions& o) {
    const fs::path subject = o.image.empty() ? o.rootfs : o.image;
    fs::path manifest = o.manifest;
    if (manifest.empty()) {
        if (o.image.empty())
            throw UsageError("verify --rootfs needs --manifest FILE",
                             "the manifest inside the root is excluded from its own digest: give "
                             "a copy, e.g. --manifest DIR/usr/share/ccbake/manifest.json");
        manifest = o.image;
        manifest += ".manifest.json";
    }
    Expected want = read_manifest(manifest);

    std::vector<target::ContentEntry> have;
    if (!o.image.empty()) {
        image::isolate_bake(); // mounts and loop devices die with this process
        ReadOnlyRoot root(o.image);
        have = baked_content(root.root());
    } else {
        have = baked_content(o.rootfs);
    }
    const std::string actual = target::content_digest(have);
    const bool match = actual == want.sha256;
    std::vector<target::ContentChange> changes;
    if (!match && want.list) changes = target::compare_content(*want.list, have);

    if (o.json) {
        json j = {{"subject", subject.string()}, {"manifest", manifest.string()},
                  {"expected", want.sha256},     {"actual", actual},
                  {"entries", have.size()},      {"match", match},
                  {"changes", json::array()}};
        for (const auto& c : changes)
            j["changes"].push_back({{"path", c.path}, {"what", c.what}});
        if (!match && !want.list) j["list"] = nullptr;
        std::cout << j.dump(2) << "\n";
    } else if (match) {
        std::cout << fmt::format("{}: matches {} (content sha256 {}, {} entries)\n",
                                 subject.string(), manifest.string(), actual, have.size());
    } else {
        std::cout << fmt::format("{}: DIFFERS from {}\n  expected content sha256 {}\n  actual   "
                                 "content sha256 {}\n",
                                 subject.string(), manifest.string(), want.sha256, actual);
        if (!want.list)
            std::cout << fmt::format("  (no content list {} beside the manifest: the paths that "
                                     "differ cannot be named)\n",
                                     want.list_path.empty() ? "named" : want.list_path.string());
        for (const auto& c : changes)
            std::cout << fmt::format("  {:<8} {}\n", c.what, c.path);
    }
    return match ? kExitOk : kExitFailed;
}

} // namespace ccbake::bake
