#pragma once
// `ccbake verify`: recomputes the content digest of a baked image (raw or qcow2, opened
// read-only: a qcow2 is converted to a scratch copy, the root is mounted read-only without
// replaying its journal) or a root directory, and compares it with the manifest. Nothing is
// written to the image and nothing stays mounted. Exit 0 on a match, 1 on a mismatch (the paths
// that differ, when the manifest's content list is beside it), 3 when the image cannot be read.
#include <filesystem>

namespace ccbake::bake {

struct VerifyOptions {
    std::filesystem::path image;    // a baked disk image...
    std::filesystem::path rootfs;   // ...or a baked root directory
    std::filesystem::path manifest; // default: IMAGE.manifest.json
    bool json = false;
};

int verify(const VerifyOptions& options);

} // namespace ccbake::bake
