#pragma once
// The last thing a bake does to the root, after its post-checks: the record of what it now
// holds. Removes what differs from bake to bake (normalise_for_digest), lists the content and
// takes its digest, reads the installed Debian packages and the venvs' Python distributions,
// then writes the SBOM (bake/sbom.h) and the manifest (bake/manifest.h) into the root, in that
// order, so the manifest can name the SBOM's digest. Both pipelines (image and --rootfs) end here.
#include "bake/manifest.h"
#include "bake/report.h"

#include <filesystem>
#include <string>

namespace ccbake::bake {

struct Recorded {
    std::string manifest;     // the manifest's text, as written into the root
    std::string sbom;         // the SBOM's text, as written into the root
    std::string content_list; // the content list's text (its sha256 is the content digest)
};

// `in` comes without content and packages: record_bake fills them (content.list is kept).
Recorded record_bake(const std::filesystem::path& root, ManifestInput in, Report& report);

} // namespace ccbake::bake
