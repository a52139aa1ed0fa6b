#include "bake/record.h"

#include "bake/content.h"
#include "bake/packages.h"
#include "bake/sbom.h"
#include "target/in_root.h"
#include "util/digest.h"

#include <fmt/format.h>

namespace ccbake::bake {

Recorded record_bake(const std::filesystem::path& root, ManifestInput in, Report& report) {
    Recorded out;
    in.content.normalised = normalise_for_digest(root);
    for (const auto& n : in.content.normalised)
        report.info(n);
    auto content = content_before_manifest(root);
    out.content_list = target::content_text(content);
    in.content.sha256 = util::sha256_hex(out.content_list);
    in.content.files = content.size();
    report.info(fmt::format("content sha256 {} ({} entries)", in.content.sha256, content.size()));

    in.packages = installed_debs(root);
    auto dists = venv_distributions(root, content);
    out.sbom = build_sbom(in, dists).dump(2) + "\n";
    target::write_in_root(root, kSbomPath, out.sbom);
    report.info(fmt::format("{}: {} Debian packages, {} artifacts, {} Python distributions",
                            kSbomPath, in.packages.size(), in.recipe.artifacts.size(),
                            dists.size()));

    in.sbom_sha256 = util::sha256_hex(out.sbom);
    out.manifest = build_manifest(in).dump(2) + "\n";
    target::write_in_root(root, kManifestPath, out.manifest);
    report.info(kManifestPath);
    return out;
}

} // namespace ccbake::bake
