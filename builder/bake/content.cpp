#include "bake/content.h"

#include "bake/journal.h"
#include "bake/manifest.h"
#include "bake/postcheck.h"
#include "bake/sbom.h"
#include "image/namespace.h"
#include "target/in_root.h"
#include "util/error.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/stat.h>

namespace ccbake::bake {

const std::vector<std::string>& content_excluded() {
    static const std::vector<std::string> paths = {kManifestPath,
                                                   kSbomPath,
                                                   kJournalPath,
                                                   "/var/log/apt/history.log",
                                                   "/var/log/apt/term.log",
                                                   "/var/log/apt/eipp.log.xz",
                                                   "/var/log/dpkg.log",
                                                   "/var/log/alternatives.log",
                                                   "/var/log/nvidia-installer.log",
                                                   "/var/lib/dkms/*/*/*/*/log/make.log"};
    return paths;
}

std::string content_covers() {
    return "every path of the root file system (not the ESP, not what is mounted below it): "
           "type, mode, owner, size, sha256, link target, security.capability; no timestamps";
}

std::vector<target::ContentEntry> baked_content(const std::filesystem::path& root) {
    // A bind mount of the root alone (not recursive) shows the root file system without what
    // is mounted on it (the ESP, the chroot's API file systems): a mount point is listed as the
    // directory beneath it, the same whether the image is attached for a bake or for verify.
    image::enter_private_mount_namespace();
    const std::filesystem::path view = image::private_workspace() / "content-view";
    std::filesystem::create_directories(view);
    if (::mount(root.c_str(), view.c_str(), nullptr, MS_BIND, nullptr) != 0)
        throw Error(fmt::format("cannot bind {} to list its content: {}", root.string(),
                                std::strerror(errno)));
    struct Unmount {
        const std::filesystem::path& at;
        ~Unmount() { ::umount2(at.c_str(), MNT_DETACH); }
    } unmount{view};
    return target::list_content(view, content_excluded());
}

std::vector<std::string> normalise_for_digest(const std::filesystem::path& root) {
    std::vector<std::string> removed;
    const std::pair<const char*, const char*> caches[] = {
        {"/var/cache/apt/pkgcache.bin", "apt"},
        {"/var/cache/apt/srcpkgcache.bin", "apt"},
        // ldconfig's record of the inodes and times of the libraries it read.
        {"/var/cache/ldconfig/aux-cache", "ldconfig"}};
    for (const auto& [cache, owner] : caches)
        if (target::remove_in_root(root, cache))
            removed.push_back(
                fmt::format("removed {} ({} rebuilds it when it runs)", cache, owner));
    // Secrets and seeds a step may have created, made afresh by the booted guest: systemd's
    // random seed (systemd-random-seed.service) and, where cloud-init will replace them on the
    // first boot anyway, ssh host keys (the post-check refuses them without cloud-init).
    if (target::remove_in_root(root, "/var/lib/systemd/random-seed"))
        removed.push_back("removed /var/lib/systemd/random-seed (systemd makes a new one at boot)");
    if (regenerates_ssh_host_keys(root))
        for (const auto& key : ssh_host_keys(root))
            if (target::remove_in_root(root, key))
                removed.push_back(
                    fmt::format("removed {} (cloud-init makes new host keys at first boot)", key));
    return removed;
}

std::map<std::string, std::string> reproducible_environment(const std::filesystem::path& root) {
    std::string epoch;
    if (const char* sde = std::getenv("SOURCE_DATE_EPOCH"); sde && *sde) {
        creation_time(); // a malformed value stops the bake here, before any step
        epoch = sde;
    } else {
        auto st = target::lstat_in_root(root, "/var/lib/dpkg/status");
        epoch = std::to_string(st && S_ISREG(st->st_mode) ? st->st_mtim.tv_sec : 0);
    }
    return {{"SOURCE_DATE_EPOCH", epoch}, {"sign_file", "/nonexistent/ccbake-signs-no-modules"}};
}

std::vector<target::ContentEntry> content_before_manifest(const std::filesystem::path& root) {
    target::make_dirs_in_root(root, std::filesystem::path(kManifestPath).parent_path().string());
    return baked_content(root);
}

std::filesystem::path content_list_path(const std::filesystem::path& output) {
    std::filesystem::path p = output;
    p += ".content";
    return p;
}

} // namespace ccbake::bake
