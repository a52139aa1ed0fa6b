// ccbake lock RECIPE [--check]: pin the sha256 and size of every artifact in RECIPE.lock, or
// download everything again and report where upstream drifted from the pins.
#include "cli/app.h"
#include "fetch/fetch.h"
#include "fetch/lockfile.h"
#include "util/error.h"
#include "util/interrupt.h"

#include <fmt/format.h>
#include <iostream>
#include <nlohmann/json.hpp>

namespace ccbake::cli {

namespace {

int write_pins(const recipe::Recipe& r, fetch::Options o, const Globals& g) {
    o.allow_unpinned = true; // pinning is what this command is for
    auto path = fetch::lock_path_for(r);
    fetch::LockFile old = fetch::read_lock(path);
    auto fetched = fetch::ensure_artifacts(r, o);
    fetch::LockFile lock;
    int added = 0, changed = 0;
    for (const auto& a : r.artifacts) {
        const auto& f = fetched.at(a.name);
        lock.artifacts[a.name] = {a.url, f.sha256, f.md5, f.size};
        auto it = old.artifacts.find(a.name);
        if (it == old.artifacts.end())
            added++;
        else if (it->second.url != a.url || it->second.sha256 != f.sha256)
            changed++;
    }
    fetch::write_lock(path, lock, r);
    if (g.json)
        std::cout << nlohmann::json{{"lock", path.string()},
                                    {"artifacts", lock.artifacts.size()},
                                    {"added", added},
                                    {"changed", changed}}
                         .dump(2)
                  << "\n";
    else {
        if (g.verbose) print_artifact_paths(fetched);
        std::cout << fmt::format("{}: {} artifact{} pinned ({} new, {} changed)\n", path.string(),
                                 lock.artifacts.size(), lock.artifacts.size() == 1 ? "" : "s",
                                 added, changed);
    }
    return 0;
}

int check_drift(const recipe::Recipe& r, const fetch::Options& o, const Globals& g) {
    auto path = fetch::lock_path_for(r);
    fetch::LockFile lock = fetch::read_lock(path);
    auto now = fetch::download_fresh(r, o);
    int problems = 0;
    nlohmann::json report = nlohmann::json::array();
    for (const auto& a : r.artifacts) {
        const auto& f = now.at(a.name);
        auto pin = lock.pin(a);
        std::string state = "ok", detail;
        if (!a.md5.empty() && f.md5 != a.md5) {
            state = "drift";
            detail = fmt::format("md5 is now {}, the recipe says {}", f.md5, a.md5);
        } else if (!pin) {
            state = "unpinned";
            detail = fmt::format("no entry for this URL in {}", path.filename().string());
        } else if (pin->sha256 != f.sha256 || pin->size != f.size) {
            state = "drift";
            detail = fmt::format("sha256 is now {} ({} bytes), the lock has {} ({} bytes)",
                                 f.sha256, f.size, pin->sha256, pin->size);
        }
        if (state != "ok") problems++;
        report.push_back({{"artifact", a.name},
                          {"url", a.url},
                          {"state", state},
                          {"detail", detail},
                          {"sha256", f.sha256},
                          {"size", f.size}});
        if (!g.json) {
            std::cout << fmt::format("{:<8} {:<24} {}{}\n", state, a.name, a.url,
                                     detail.empty() ? "" : "\n         " + detail);
            if (g.verbose)
                std::cout << fmt::format("         sha256 {}, {} bytes\n", f.sha256, f.size);
        }
    }
    if (g.json)
        std::cout << nlohmann::json{{"lock", path.string()}, {"artifacts", report}}.dump(2) << "\n";
    if (problems) {
        std::cerr << fmt::format("ccbake: error: {} of {} artifacts differ from {}\n", problems,
                                 r.artifacts.size(), path.string())
                  << "  hint: if the change upstream is expected, review it and run `ccbake lock "
                     "--update "
                  << r.path.string() << "` to pin the new files\n";
        return kExitFailed;
    }
    if (!g.json)
        std::cout << fmt::format("{} artifacts match {}\n", r.artifacts.size(), path.string());
    return 0;
}

void register_lock(CLI::App& app, Globals& g) {
    auto* cmd =
        app.add_subcommand("lock", "Pin the sha256 and size of every artifact in RECIPE.lock");
    static std::string recipe_path;
    static std::vector<std::string> sets;
    static bool check = false;
    static bool update = false;
    static fetch::Options o;
    cmd->add_option("RECIPE", recipe_path, "Recipe file")->required()->check(CLI::ExistingFile);
    cmd->add_flag(
        "--check", check,
        "Download every artifact again and report drift from the lock (exit 1 on any difference)");
    cmd->add_flag(
           "--update", update,
           "Pin what upstream serves now, replacing existing entries (after a reviewed change)")
        ->excludes("--check");
    cmd->add_option("-j,--jobs", o.jobs, "Parallel downloads")
        ->default_val(4)
        ->check(CLI::Range(1, 64));
    cmd->add_option("--tries", o.tries, "Attempts per URL on network errors, 5xx and 429")
        ->default_val(4)
        ->check(CLI::Range(1, 20));
    add_set_option(*cmd, sets);
    cmd->callback([&g] {
        util::install_interrupt_handlers();
        // --update pins anew: the old pins must not be what the downloads are checked against.
        recipe::Recipe r = load_or_die(recipe_path, sets, update ? Pins::None : Pins::FromLock);
        o.cache = g.cache_dir();
        o.json = g.json;
        o.repin = update;
        g.exit_code = check ? check_drift(r, o, g) : write_pins(r, o, g);
    });
}

} // namespace

static const CommandRegistrar registered(35, register_lock);

} // namespace ccbake::cli
