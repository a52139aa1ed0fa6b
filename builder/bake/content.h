#pragma once
// The content digest of a baked root (target/content.h) as the bake records it and `ccbake
// verify` checks it: which paths it leaves out (ccbake's own manifest, SBOM and journal,
// which describe the bake rather than the image, and build logs that record a time), and the list
// written beside an image output.
#include "target/content.h"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace ccbake::bake {

// Paths (or fnmatch patterns) the digest leaves out: ccbake's manifest, SBOM and journal, the
// logs in which apt and dpkg record when they ran, and the NVIDIA installer's and dkms's build
// logs (a time and a random folder name).
const std::vector<std::string>& content_excluded();
// One line for the manifest: what the digest covers.
std::string content_covers();

// The content of `root` with content_excluded() left out, read through a private bind mount of
// the root alone, so nothing mounted on it counts (the caller's mount namespace is made private).
std::vector<target::ContentEntry> baked_content(const std::filesystem::path& root);

// After the steps: removes what a bake leaves that differs from bake to bake and its owner
// rebuilds on demand: apt's binary caches (/var/cache/apt/pkgcache.bin, srcpkgcache.bin),
// ldconfig's aux-cache, systemd's random seed, and ssh host keys where cloud-init makes new
// ones at first boot.
// Returns one line per file removed, for the manifest.
std::vector<std::string> normalise_for_digest(const std::filesystem::path& root);

// For the bake: creates the folder the manifest goes to (so writing the manifest afterwards adds
// no path the list lacks), then baked_content(root).
std::vector<target::ContentEntry> content_before_manifest(const std::filesystem::path& root);

// What every command of the bake runs with so that two bakes write the same bytes, read from the
// root before any step runs:
//  - SOURCE_DATE_EPOCH: the caller's when set, else the modification time of the root's dpkg
//    status file (the base's last package change, the same for every bake of one base), so the
//    tools that embed a time (initramfs-tools' cpio, gzip, pip, dpkg-deb) embed that one;
//  - sign_file: a path that does not exist, so dkms (3.x reads it) signs no module with a key
//    it would generate afresh for each bake and leave in the image (docs/bake.md).
std::map<std::string, std::string> reproducible_environment(const std::filesystem::path& root);

// OUT.content: the list beside an image output.
std::filesystem::path content_list_path(const std::filesystem::path& output);

} // namespace ccbake::bake
