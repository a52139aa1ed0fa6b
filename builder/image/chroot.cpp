#include "image/chroot.h"

#include "image/namespace.h"
#include "util/error.h"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <sys/mount.h>
#include <sys/stat.h>

namespace fs = std::filesystem;

namespace ccbake::image {

namespace {

const char* kPolicyRcd =
    "#!/bin/sh\n# Written by ccbake while baking: no service starts in the image.\nexit 101\n";

void write_file(const fs::path& p, const std::string& content, fs::perms perms) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) throw Error(fmt::format("cannot write {}", p.string()));
    fs::permissions(p, perms);
}

} // namespace

ChrootTarget::ChrootTarget(fs::path root) : root_(fs::absolute(std::move(root))) {
    if (!fs::is_directory(root_))
        throw UsageError(fmt::format("{} is not a directory", root_.string()));
    if (!fs::exists(root_ / "usr/bin") || !fs::exists(root_ / "etc"))
        throw UsageError(
            fmt::format("{} does not look like a root file system (no /usr/bin or /etc)",
                        root_.string()),
            "point --rootfs at the directory that holds the image's /etc and /usr");
    enter_private_mount_namespace();
    try {
        for (const char* d : {"proc", "sys", "dev", "run", "usr/sbin"})
            fs::create_directories(root_ / d);
        mount_or_throw("proc", root_ / "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC);
        mount_or_throw("sysfs", root_ / "sys", "sysfs",
                       MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY);
        mount_or_throw("tmpfs", root_ / "dev", "tmpfs", MS_NOSUID, "mode=0755,size=16m");
        for (const char* node : {"null", "zero", "full", "random", "urandom", "tty"}) {
            write_file(root_ / "dev" / node, "", fs::perms::owner_read | fs::perms::owner_write);
            mount_or_throw(std::string("/dev/") + node, root_ / "dev" / node, nullptr, MS_BIND);
        }
        fs::create_directories(root_ / "dev/pts");
        mount_or_throw("devpts", root_ / "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                       "newinstance,ptmxmode=0666,mode=620");
        fs::create_symlink("pts/ptmx", root_ / "dev/ptmx");
        fs::create_directories(root_ / "dev/shm");
        mount_or_throw("tmpfs", root_ / "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
        fs::create_symlink("/proc/self/fd", root_ / "dev/fd");
        mount_or_throw("tmpfs", root_ / "run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
        stash("/usr/sbin/policy-rc.d");
        write_file(root_ / "usr/sbin/policy-rc.d", kPolicyRcd,
                   fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                       fs::perms::others_read | fs::perms::others_exec);
    } catch (...) {
        release();
        throw;
    }
}

ChrootTarget::~ChrootTarget() {
    try {
        release();
    } catch (...) {
        // The namespace drops any mount left behind when ccbake exits.
    }
}

void ChrootTarget::mount_or_throw(const std::string& source, const fs::path& target,
                                  const char* type, unsigned long flags, const char* data) {
    if (::mount(source.c_str(), target.c_str(), type, flags, data) != 0)
        throw Error(fmt::format("cannot mount {} on {}: {}", source, target.string(),
                                std::strerror(errno)));
    mounts_.push_back(target);
}

void ChrootTarget::stash(const fs::path& inside) {
    fs::path p = root_ / inside.relative_path();
    Stashed s{p, std::nullopt};
    if (fs::exists(fs::symlink_status(p))) {
        fs::path backup = p;
        backup += ".ccbake-orig";
        fs::rename(p, backup);
        s.backup = backup;
    }
    stashed_.push_back(s);
}

void ChrootTarget::restore_stashed() {
    for (auto it = stashed_.rbegin(); it != stashed_.rend(); ++it) {
        std::error_code ec;
        fs::remove(it->path, ec);
        if (it->backup) fs::rename(*it->backup, it->path, ec);
    }
    stashed_.clear();
}

void ChrootTarget::set_network(bool on) {
    if (on == network_) return;
    if (on) {
        stash("/etc/resolv.conf");
        std::ifstream host("/etc/resolv.conf", std::ios::binary);
        std::string content((std::istreambuf_iterator<char>(host)), {});
        write_file(root_ / "etc/resolv.conf", content,
                   fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                       fs::perms::others_read);
    } else {
        // Restore only the resolv.conf entry (policy-rc.d stays until release()).
        for (auto it = stashed_.begin(); it != stashed_.end(); ++it)
            if (it->path == root_ / "etc/resolv.conf") {
                std::error_code ec;
                fs::remove(it->path, ec);
                if (it->backup) fs::rename(*it->backup, it->path, ec);
                stashed_.erase(it);
                break;
            }
    }
    network_ = on;
}

void ChrootTarget::add_device(const fs::path& host_node, const std::string& name) {
    fs::path node = root_ / "dev" / name;
    fs::create_directories(node.parent_path());
    struct stat st {};
    if (::stat(host_node.c_str(), &st) != 0)
        throw Error(
            fmt::format("cannot see device {}: {}", host_node.string(), std::strerror(errno)));
    if (::mknod(node.c_str(), st.st_mode, st.st_rdev) != 0)
        throw Error(
            fmt::format("cannot create {} in the chroot: {}", node.string(), std::strerror(errno)));
}

void ChrootTarget::add_uuid_link(const std::string& uuid, const std::string& device_name) {
    fs::path dir = root_ / "dev/disk/by-uuid";
    fs::create_directories(dir);
    std::error_code ec;
    fs::remove(dir / uuid, ec);
    fs::create_symlink("../../" + device_name, dir / uuid);
}

void ChrootTarget::add_dev_symlink(const std::string& link, const std::string& target) {
    fs::path p = root_ / "dev" / link;
    std::error_code ec;
    fs::remove(p, ec);
    fs::create_symlink(target, p);
}

util::RunResult ChrootTarget::run(const std::vector<std::string>& argv,
                                  const util::RunOptions& options) {
    util::RunOptions o = options;
    o.env = util::clean_environment();
    for (const auto& [k, v] : options.env)
        o.env[k] = v;
    std::string cwd = options.cwd.empty() ? "/" : options.cwd.string();
    o.cwd = "/";
    std::vector<std::string> full = {
        "/usr/sbin/chroot", root_.string(), "/usr/bin/env", "-C", cwd, "--"};
    full.insert(full.end(), argv.begin(), argv.end());
    return util::run(full, o);
}

void ChrootTarget::release() {
    if (released_) return;
    released_ = true;
    network_ = false;
    restore_stashed();
    for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it)
        ::umount2(it->c_str(), MNT_DETACH);
    mounts_.clear();
}

} // namespace ccbake::image
