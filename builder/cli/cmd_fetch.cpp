// ccbake fetch RECIPE: download and verify every artifact into the cache.
#include "cli/app.h"
#include "fetch/fetch.h"
#include "util/interrupt.h"

#include <fmt/format.h>
#include <iostream>
#include <nlohmann/json.hpp>

namespace ccbake::cli {

namespace {

void register_fetch(CLI::App& app, Globals& g) {
    auto* cmd = app.add_subcommand("fetch",
                                   "Download and verify every artifact of a recipe into the cache");
    static std::string recipe_path;
    static std::vector<std::string> sets;
    static fetch::Options o;
    cmd->add_option("RECIPE", recipe_path, "Recipe file")->required()->check(CLI::ExistingFile);
    cmd->add_flag("--offline", o.offline, "Use only the cache; fail naming what is missing");
    cmd->add_option("-j,--jobs", o.jobs, "Parallel downloads")
        ->default_val(4)
        ->check(CLI::Range(1, 64));
    cmd->add_flag("--reverify", o.reverify,
                  "Re-hash cached files even when their stamp says they are unchanged");
    cmd->add_flag("--allow-unpinned", o.allow_unpinned,
                  "Accept artifacts with neither an md5 in the recipe nor an entry in RECIPE.lock");
    cmd->add_option("--tries", o.tries, "Attempts per URL on network errors, 5xx and 429")
        ->default_val(4)
        ->check(CLI::Range(1, 20));
    cmd->add_option("--low-speed-time", o.low_speed_time,
                    "Abort an attempt after this many seconds below 1 KiB/s")
        ->default_val(30)
        ->check(CLI::Range(1, 3600));
    add_set_option(*cmd, sets);
    cmd->callback([&g] {
        util::install_interrupt_handlers();
        recipe::Recipe r = load_or_die(recipe_path, sets);
        o.cache = g.cache_dir();
        o.json = g.json;
        auto fetched = fetch::ensure_artifacts(r, o);
        if (g.json) {
            nlohmann::json out = nlohmann::json::object();
            for (const auto& [name, f] : fetched)
                out[name] = {{"path", f.path.string()},
                             {"md5", f.md5},
                             {"sha256", f.sha256},
                             {"size", f.size},
                             {"downloaded", f.downloaded}};
            std::cout << nlohmann::json{{"artifacts", out}}.dump(2) << "\n";
        } else if (g.verbose) {
            print_artifact_paths(fetched);
        }
        g.exit_code = 0;
    });
}

} // namespace

static const CommandRegistrar registered(30, register_fetch);

} // namespace ccbake::cli
