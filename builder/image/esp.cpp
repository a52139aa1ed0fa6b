#include "image/esp.h"

#include "util/digest.h"
#include "util/error.h"
#include "util/file.h"
#include "util/process.h"
#include "util/strings.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <sys/mount.h>
#include <vector>

namespace fs = std::filesystem;

namespace ccbake::image {

namespace {

util::RunResult mtools(const std::vector<std::string>& argv) {
    util::RunOptions o;
    o.env = util::clean_environment();
    o.env["MTOOLS_SKIP_CHECK"] = "1";
    o.env["MTOOLS_NO_VFAT"] = "0";
    return util::run(argv, o);
}

void mtools_or_fail(const std::vector<std::string>& argv, const std::string& what) {
    util::RunResult r = mtools(argv);
    if (r.exit_code != 0) {
        Error e(what, "the ESP may be full or damaged");
        e.add_context("command: " + util::join(argv, " "));
        if (!r.output.empty()) e.add_context("output: " + util::trim(r.output));
        throw e;
    }
}

std::string file_sha256(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), {});
    return util::sha256_hex(data);
}

} // namespace

EspAccess::EspAccess(int disk_fd, const fs::path& disk, const Partition& esp,
                     const fs::path& mount_point, const fs::path& scratch)
    : disk_(disk), mount_point_(mount_point), scratch_(scratch), esp_(esp) {
    fs::create_directories(mount_point_);
    auto loop = std::make_unique<LoopDevice>(disk_fd, esp.offset, esp.size, false);
    if (::mount(loop->path().c_str(), mount_point_.c_str(), "vfat", 0, "umask=0077") == 0) {
        loop_ = std::move(loop);
        mounted_ = true;
        return;
    }
    loop.reset(); // this host cannot mount FAT: work through mtools instead
    fs::create_directories(scratch_);
    copy_out();
    before_ = snapshot();
    if (::mount(scratch_.c_str(), mount_point_.c_str(), nullptr, MS_BIND, nullptr) != 0)
        throw Error(fmt::format("cannot bind the ESP copy on {}: {}", mount_point_.string(),
                                std::strerror(errno)));
    mounted_ = true;
}

EspAccess::~EspAccess() {
    if (mounted_) ::umount2(mount_point_.c_str(), MNT_DETACH);
}

std::string EspAccess::mtools_image() const {
    return fmt::format("{}@@{}", disk_.string(), esp_.offset);
}

void copy_esp_files(const fs::path& disk, const Partition& esp, const fs::path& dest) {
    const std::string image = fmt::format("{}@@{}", disk.string(), esp.offset);
    util::RunResult list = mtools({"mdir", "-i", image, "-b", "::/"});
    if (util::trim(list.output).empty()) return; // an empty ESP
    mtools_or_fail(
        {"mcopy", "-s", "-p", "-m", "-n", "-Q", "-i", image, "::/*", dest.string() + "/"},
        "cannot read the EFI System Partition with mtools");
}

std::optional<std::string> read_fat_file(const fs::path& disk, std::uint64_t offset,
                                         const std::string& path, const fs::path& scratch) {
    fs::create_directories(scratch);
    const fs::path out = scratch / "file";
    std::error_code ec;
    fs::remove(out, ec);
    util::RunResult r = mtools({"mcopy", "-n", "-i", fmt::format("{}@@{}", disk.string(), offset),
                                "::" + path, out.string()});
    if (r.exit_code != 0) return std::nullopt;
    return util::read_file(out);
}

void EspAccess::copy_out() {
    copy_esp_files(disk_, esp_, scratch_);
}

std::map<std::string, std::string> EspAccess::snapshot() const {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(scratch_)) {
        std::string rel = fs::relative(e.path(), scratch_).string();
        out[rel] = e.is_directory() ? "dir" : file_sha256(e.path());
    }
    return out;
}

void EspAccess::write_back() {
    auto after = snapshot();
    auto fat = [](const std::string& rel) { return "::/" + rel; };
    for (const auto& [rel, sum] : after) { // map order: a folder before what it holds
        auto it = before_.find(rel);
        if (sum == "dir") {
            if (it == before_.end())
                mtools_or_fail({"mmd", "-i", mtools_image(), fat(rel)},
                               "cannot create " + rel + " on the ESP");
        } else if (it == before_.end() || it->second != sum) {
            mtools_or_fail(
                {"mcopy", "-o", "-m", "-i", mtools_image(), (scratch_ / rel).string(), fat(rel)},
                "cannot write " + rel + " to the ESP");
        }
    }
    for (auto it = before_.rbegin(); it != before_.rend(); ++it) { // contents before their folder
        if (after.count(it->first)) continue;
        if (it->second == "dir")
            mtools_or_fail({"mrd", "-i", mtools_image(), fat(it->first)},
                           "cannot remove " + it->first + " from the ESP");
        else
            mtools_or_fail({"mdel", "-i", mtools_image(), fat(it->first)},
                           "cannot remove " + it->first + " from the ESP");
    }
}

void EspAccess::commit() {
    if (!mounted_) return;
    if (!loop_) write_back();
    if (::umount2(mount_point_.c_str(), 0) != 0)
        throw Error(fmt::format("cannot unmount the ESP at {}: {}", mount_point_.string(),
                                std::strerror(errno)),
                    "a process started by a step may still use it");
    mounted_ = false;
    if (loop_) {
        loop_->flush();
        loop_->close();
    }
}

} // namespace ccbake::image
