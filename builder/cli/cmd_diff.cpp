// ccbake diff A B: what differs between two baked images or manifests (docs/bake.md).
#include "bake/diff.h"
#include "cli/app.h"

namespace ccbake::cli {

namespace {

void register_diff(CLI::App& app, Globals& g) {
    auto* cmd = app.add_subcommand(
        "diff", "What differs between two baked images or manifests: artifacts, steps, packages, "
                "files");
    static bake::DiffOptions o;
    cmd->add_option("A", o.a, "A baked image (raw or qcow2, read-only) or its manifest")
        ->required();
    cmd->add_option("B", o.b, "The other image or manifest")->required();
    cmd->callback([&g] {
        o.json = g.json;
        g.exit_code = bake::diff(o);
    });
}

} // namespace

static const CommandRegistrar registered(46, register_diff);

} // namespace ccbake::cli
