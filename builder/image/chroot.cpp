#include "image/chroot.h"

#include "image/namespace.h"
#include "target/in_root.h"
#include "util/error.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/stat.h>

namespace fs = std::filesystem;

namespace ccbake::image {

namespace {

const char* kPolicyRcd =
    "#!/bin/sh\n# Written by ccbake while baking: no service starts in the image.\nexit 101\n";
constexpr const char* kPolicyRcdPath = "/usr/sbin/policy-rc.d";
constexpr const char* kResolvConf = "/etc/resolv.conf";
constexpr const char* kBackup = ".ccbake-orig";
// Put where the image has no resolv.conf, so that the host's can be bound over it.
const char* kResolvPlaceholder = "# ccbake: placeholder while a step has network access\n";

} // namespace

ChrootTarget::ChrootTarget(fs::path root) : root_(fs::absolute(std::move(root))) {
    if (!fs::is_directory(root_))
        throw UsageError(fmt::format("{} is not a directory", root_.string()));
    if (!target::lstat_in_root(root_, "/usr/bin") || !target::lstat_in_root(root_, "/etc"))
        throw UsageError(
            fmt::format("{} does not look like a root file system (no /usr/bin or /etc)",
                        root_.string()),
            "point --rootfs at the directory that holds the image's /etc and /usr");
    enter_private_mount_namespace();
    try {
        recover_from_crash();
        mount_in("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC);
        mount_in("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY);
        mount_in("tmpfs", "/dev", "tmpfs", MS_NOSUID, "mode=0755,size=16m");
        for (const char* node : {"null", "zero", "full", "random", "urandom", "tty"}) {
            std::string inside = std::string("/dev/") + node;
            target::mknod_in_root(root_, inside, S_IFREG | 0600, 0);
            bind_file_in(inside, inside);
        }
        mount_in("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                 "newinstance,ptmxmode=0666,mode=620");
        target::symlink_in_root(root_, "pts/ptmx", "/dev/ptmx");
        mount_in("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
        target::symlink_in_root(root_, "/proc/self/fd", "/dev/fd");
        mount_in("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
        stash(kPolicyRcdPath);
        target::write_in_root(root_, kPolicyRcdPath, kPolicyRcd, 0755);
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

// A bake killed with -9 in a root directory (--rootfs) leaves its stash behind: the image's
// own file as NAME.ccbake-orig and ccbake's in its place. Put the image's file back before
// anything else, so a stash never overwrites an original with the host's or ccbake's file.
void ChrootTarget::recover_from_crash() {
    for (const char* inside : {kPolicyRcdPath, kResolvConf}) {
        std::string backup = std::string(inside) + kBackup;
        if (target::lstat_in_root(root_, backup)) {
            target::rename_in_root(root_, backup, inside);
            recovered_.push_back(inside);
        }
    }
    if (auto text = target::read_in_root(root_, kPolicyRcdPath);
        text && *text == kPolicyRcd && target::remove_in_root(root_, kPolicyRcdPath))
        recovered_.push_back(kPolicyRcdPath);
    if (auto text = target::read_in_root(root_, kResolvConf);
        text && *text == kResolvPlaceholder && target::remove_in_root(root_, resolv_target()))
        recovered_.push_back(kResolvConf);
}

void ChrootTarget::mount_in(const std::string& source, const std::string& inside, const char* type,
                            unsigned long flags, const char* data) {
    target::Fd dir = target::make_dirs_in_root(root_, inside);
    // Mounting on the descriptor's /proc path mounts on the very directory resolved in the
    // root; the path the namespace shows for it is remembered for unmounting.
    if (::mount(source.c_str(), dir.proc_path().c_str(), type, flags, data) != 0)
        throw Error(fmt::format("cannot mount {} on {} in the image: {}", source, inside,
                                std::strerror(errno)));
    mounts_.push_back(target::resolve_in_root(root_, inside, true));
}

void ChrootTarget::share_package_cache(const fs::path& host_dir) {
    std::error_code ec;
    fs::create_directories(host_dir / "partial", ec);
    if (ec)
        throw Error(
            fmt::format("cannot create the package cache {}: {}", host_dir.string(), ec.message()),
            "check that the cache folder is writable, or choose another with --cache");
    mount_in(host_dir.string(), "/var/cache/apt/archives", nullptr, MS_BIND);
}

void ChrootTarget::bind_file_in(const std::string& host_file, const std::string& inside) {
    target::Fd file = target::open_in_root(root_, inside, true);
    if (!file)
        throw Error(fmt::format("cannot bind {}: {} is missing in the image", host_file, inside));
    if (::mount(host_file.c_str(), file.proc_path().c_str(), nullptr, MS_BIND, nullptr) != 0)
        throw Error(fmt::format("cannot bind {} on {} in the image: {}", host_file, inside,
                                std::strerror(errno)));
    mounts_.push_back(target::resolve_in_root(root_, inside, true));
}

void ChrootTarget::stash(const std::string& inside) {
    Stashed s{inside, false};
    if (target::lstat_in_root(root_, inside)) {
        target::rename_in_root(root_, inside, inside + kBackup);
        s.backed_up = true;
    }
    stashed_.push_back(s);
}

void ChrootTarget::restore_stashed() {
    for (auto it = stashed_.rbegin(); it != stashed_.rend(); ++it) {
        try {
            target::remove_in_root(root_, it->inside);
            if (it->backed_up) target::rename_in_root(root_, it->inside + kBackup, it->inside);
        } catch (const Error&) {
            // Left for recover_from_crash() of the next bake to put back.
        }
    }
    stashed_.clear();
}

// The host's resolv.conf is bound over the image's (or over the file its link names, e.g.
// Ubuntu's /run/systemd/resolve/stub-resolv.conf on the chroot's tmpfs), so the image's own
// file, link or not, is never replaced; a crash drops the mount with the namespace.
// The file the image's /etc/resolv.conf finally names (itself, or where its links lead), as a
// path inside the image.
std::string ChrootTarget::resolv_target() const {
    return "/" + fs::relative(target::resolve_in_root(root_, kResolvConf, true), root_).string();
}

void ChrootTarget::set_network(bool on) {
    if (on == network_) return;
    if (on) {
        const std::string inside = resolv_target();
        if (!target::open_in_root(root_, inside, true)) {
            target::write_in_root(root_, inside, kResolvPlaceholder, 0644);
            resolv_placeholder_ = inside;
        }
        bind_file_in("/etc/resolv.conf", inside);
        resolv_mount_ = mounts_.back();
    } else {
        ::umount2(resolv_mount_.c_str(), MNT_DETACH);
        std::erase(mounts_, resolv_mount_);
        if (!resolv_placeholder_.empty()) target::remove_in_root(root_, resolv_placeholder_);
        resolv_placeholder_.clear();
    }
    network_ = on;
}

void ChrootTarget::add_device(const fs::path& host_node, const std::string& name) {
    struct stat st {};
    if (::stat(host_node.c_str(), &st) != 0)
        throw Error(
            fmt::format("cannot see device {}: {}", host_node.string(), std::strerror(errno)));
    target::mknod_in_root(root_, "/dev/" + name, st.st_mode, st.st_rdev);
}

void ChrootTarget::add_disk_link(const std::string& kind, const std::string& id,
                                 const std::string& device_name) {
    if (id.empty() || id.find('/') != std::string::npos) return;
    target::symlink_in_root(root_, "../../" + device_name, "/dev/disk/" + kind + "/" + id);
}

void ChrootTarget::add_dev_symlink(const std::string& link, const std::string& target) {
    target::symlink_in_root(root_, target, "/dev/" + link);
}

util::RunResult ChrootTarget::run(const std::vector<std::string>& argv,
                                  const util::RunOptions& options) {
    util::RunOptions o = options;
    o.env = util::clean_environment();
    for (const auto& [k, v] : env_)
        o.env[k] = v;
    for (const auto& [k, v] : options.env)
        o.env[k] = v;
    std::string cwd = options.cwd.empty() ? "/" : options.cwd.string();
    o.cwd = "/";
    // Nothing run in the image may load or unload modules of the running kernel, which is the
    // build host's: CAP_SYS_MODULE leaves the bounding set before the chroot (installers such
    // as NVIDIA's rmmod loaded modules and test-load new ones).
    std::vector<std::string> full = {"/usr/bin/setpriv",
                                     "--inh-caps=-sys_module",
                                     "--bounding-set=-sys_module",
                                     "/usr/sbin/chroot",
                                     root_.string(),
                                     "/usr/bin/env",
                                     "-C",
                                     cwd,
                                     "--"};
    full.insert(full.end(), argv.begin(), argv.end());
    return util::run(full, o);
}

void ChrootTarget::release() {
    if (released_) return;
    released_ = true;
    if (network_) set_network(false);
    restore_stashed();
    for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it)
        ::umount2(it->c_str(), MNT_DETACH);
    mounts_.clear();
}

} // namespace ccbake::image
