#pragma once
// `ccbake diff A B`: what differs between two baked images, two manifests, or one of each: the
// artifacts (by name: URL or digests), the steps (by name: hash, or added and removed), the
// Debian packages (by name and architecture: version), and the files (the content lists: the
// one beside a manifest, or an image's own content read read-only). Exit 0 when nothing
// differs, 1 when something does; 2 for an input that is neither; 3 for an image it cannot read.
#include <filesystem>

namespace ccbake::bake {

struct DiffOptions {
    std::filesystem::path a, b;
    bool json = false;
};

int diff(const DiffOptions& options);

} // namespace ccbake::bake
