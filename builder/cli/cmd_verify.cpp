// ccbake verify (IMAGE | --rootfs DIR) [--manifest FILE]: does the baked image still hold
// what its manifest's content digest says? (docs/bake.md, "Content digest and verify")
#include "bake/verify.h"
#include "cli/app.h"
#include "util/error.h"

namespace ccbake::cli {

namespace {

void register_verify(CLI::App& app, Globals& g) {
    auto* cmd = app.add_subcommand(
        "verify", "Check a baked image (or root) against the content digest of its manifest");
    static bake::VerifyOptions o;
    auto* image = cmd->add_option("IMAGE", o.image, "Baked image, raw or qcow2 (opened read-only)")
                      ->check(CLI::ExistingFile);
    auto* rootfs = cmd->add_option("--rootfs", o.rootfs, "A baked root directory instead")
                       ->type_name("DIR")
                       ->check(CLI::ExistingDirectory);
    cmd->add_option("--manifest", o.manifest,
                    "The manifest to check against (default: IMAGE.manifest.json)")
        ->type_name("FILE");
    image->excludes(rootfs);
    cmd->callback([&g] {
        if (o.image.empty() && o.rootfs.empty())
            throw UsageError("verify needs an IMAGE or --rootfs DIR",
                             "e.g. ccbake verify baked.qcow2");
        o.json = g.json;
        g.exit_code = bake::verify(o);
    });
}

} // namespace

static const CommandRegistrar registered(45, register_verify);

} // namespace ccbake::cli
