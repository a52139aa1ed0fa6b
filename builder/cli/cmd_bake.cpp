// ccbake bake RECIPE (--image IN --output OUT [--format qcow2|raw] | --rootfs DIR)
#include "bake/pipeline.h"
#include "cli/app.h"
#include "util/error.h"
#include "util/interrupt.h"
#include "util/size.h"

#include <fmt/format.h>

namespace ccbake::cli {

namespace {

std::string format_for(const std::string& requested, const std::filesystem::path& out) {
    if (!requested.empty()) return requested;
    return out.extension() == ".raw" || out.extension() == ".img" ? "raw" : "qcow2";
}

void register_bake(CLI::App& app, Globals& g) {
    auto* cmd = app.add_subcommand(
        "bake", "Apply a recipe to a disk image (a new output image) or a root directory");
    static std::string recipe_path, format, disk_size;
    static std::vector<std::string> sets;
    static bake::BakeOptions o;
    cmd->add_option("RECIPE", recipe_path, "Recipe file")->required()->check(CLI::ExistingFile);
    auto* image =
        cmd->add_option("--image", o.image, "Input disk image, raw or qcow2 (never modified)")
            ->type_name("IN")
            ->check(CLI::ExistingFile);
    auto* output = cmd->add_option("-o,--output", o.output,
                                   "Output image; appears only when the bake succeeded")
                       ->type_name("OUT");
    cmd->add_option("--format", format, "Output format (default: raw for .raw/.img, else qcow2)")
        ->check(CLI::IsMember({"qcow2", "raw"}));
    auto* rootfs =
        cmd->add_option("--rootfs", o.rootfs, "Apply the recipe to this root directory in place")
            ->type_name("DIR")
            ->check(CLI::ExistingDirectory);
    cmd->add_option("--log-dir", o.log_dir,
                    "Folder for the per-step logs (default: CACHE/logs/RECIPE-TIME)")
        ->type_name("DIR");
    auto* grow = cmd->add_option("--disk-size", disk_size,
                                 "Grow the baked disk to SIZE (e.g. 16GiB); wins over the "
                                 "recipe's base.disk_size")
                     ->type_name("SIZE");
    cmd->add_flag("--offline", o.offline, "Use only artifacts already in the cache");
    cmd->add_flag("--force", o.force,
                  "Bake even when OUT is up to date (its manifest records this input, recipe "
                  "and ccbake)");
    static bool no_layer_cache = false;
    cmd->add_flag("--no-layer-cache", no_layer_cache,
                  "Neither restore the first steps from the layer cache nor store the state "
                  "after each step there (--image only; docs/bake.md)");
    cmd->add_flag(
        "--allow-unpinned", o.allow_unpinned,
        "Accept artifacts that have neither an md5 in the recipe nor an entry in RECIPE.lock");
    add_set_option(*cmd, sets);
    image->needs(output)->excludes(rootfs);
    grow->excludes(rootfs);
    output->needs(image);
    cmd->callback([&g] {
        o.layer_cache = !no_layer_cache;
        if (o.image.empty() && o.rootfs.empty())
            throw UsageError(
                "bake needs --image IN --output OUT, or --rootfs DIR",
                "e.g. ccbake bake recipe.yaml --image base.qcow2 --output baked.qcow2");
        if (!disk_size.empty()) {
            auto parsed = util::parse_size(disk_size);
            if (!parsed.bytes || *parsed.bytes == 0)
                throw UsageError(fmt::format("--disk-size: '{}' is not a size{}", disk_size,
                                             parsed.error.empty() ? "" : " (" + parsed.error + ")"),
                                 "e.g. --disk-size 16GiB");
            o.disk_size = *parsed.bytes;
        }
        util::install_interrupt_handlers();
        recipe::Recipe r = load_or_die(recipe_path, sets);
        o.cache = g.cache_dir();
        o.json = g.json;
        o.verbose = g.verbose;
        if (!o.rootfs.empty()) {
            g.exit_code = bake::bake_rootfs(r, o);
        } else {
            o.format = format_for(format, o.output);
            g.exit_code = bake::bake_image(r, o);
        }
    });
}

} // namespace

static const CommandRegistrar registered(40, register_bake);

} // namespace ccbake::cli
