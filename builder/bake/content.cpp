#include "bake/content.h"

#include "bake/journal.h"
#include "bake/manifest.h"
#include "image/namespace.h"
#include "target/in_root.h"
#include "util/error.h"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <sys/mount.h>

namespace ccbake::bake {

const std::vector<std::string>& content_excluded() {
    static const std::vector<std::string> paths = {kManifestPath,
                                                   kJournalPath,
                                                   "/var/log/apt/history.log",
                                                   "/var/log/apt/term.log",
                                                   "/var/log/apt/eipp.log.xz",
                                                   "/var/log/dpkg.log",
                                                   "/var/log/alternatives.log"};
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
    for (const char* cache : {"/var/cache/apt/pkgcache.bin", "/var/cache/apt/srcpkgcache.bin"})
        if (target::remove_in_root(root, cache))
            removed.push_back(fmt::format("removed {} (apt rebuilds it when it runs)", cache));
    return removed;
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
