// ccbake cache ls | gc [--max-size SIZE]: what the cache holds (artifacts, and the layers of
// the layer cache), and trimming it.
#include "bake/layers.h"
#include "bake/pipeline.h"
#include "cli/app.h"
#include "fetch/cache.h"
#include "fetch/gc.h"
#include "util/error.h"
#include "util/size.h"
#include "util/strings.h"

#include <chrono>
#include <ctime>
#include <fmt/format.h>
#include <iostream>
#include <nlohmann/json.hpp>

namespace ccbake::cli {

namespace {

std::string when(std::int64_t t) {
    if (!t) return "-";
    std::time_t tt = t;
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
    return buf;
}

void list(const Globals& g) {
    fetch::Cache cache(g.cache_dir());
    auto objects = cache.list();
    auto layers = bake::LayerStore(bake::layer_cache_dir(g.cache_dir())).list();
    std::uint64_t total = 0;
    for (const auto& s : objects)
        total += s.size;
    if (g.json) {
        nlohmann::json out = {{"cache", cache.root().string()},
                              {"total", total},
                              {"objects", nlohmann::json::array()},
                              {"layers", nlohmann::json::array()}};
        for (const auto& l : layers)
            out["layers"].push_back({{"key", l.key},
                                     {"parent", l.parent},
                                     {"step", l.step},
                                     {"kind", l.kind},
                                     {"size", l.size},
                                     {"entries", l.entries},
                                     {"created", l.created},
                                     {"last_used", l.used}});
        for (const auto& s : objects)
            out["objects"].push_back({{"sha256", s.sha256},
                                      {"md5", s.md5},
                                      {"size", s.size},
                                      {"last_used", s.used},
                                      {"names", s.names},
                                      {"path", cache.object(s.sha256).string()}});
        std::cout << out.dump(2) << "\n";
        return;
    }
    std::cout << fmt::format("{:<16}  {:>10}  {:<16}  {}\n", "SHA256", "SIZE", "LAST USED (UTC)",
                             "ARTIFACTS");
    for (const auto& s : objects) {
        std::cout << fmt::format("{:<16}  {:>10}  {:<16}  {}\n", s.sha256.substr(0, 16),
                                 util::human_bytes(s.size), when(s.used),
                                 s.names.empty() ? "-" : util::join(s.names, ", "));
        if (g.verbose) // the whole digest and the file, e.g. to compare or copy it
            std::cout << fmt::format("{:<16}  {}\n{:<16}  {}\n", "", s.sha256, "",
                                     cache.object(s.sha256).string());
    }
    std::cout << fmt::format("{} file{}, {} in {}\n", objects.size(),
                             objects.size() == 1 ? "" : "s", util::human_bytes(total),
                             cache.root().string());
    if (layers.empty()) return;
    std::uint64_t layer_bytes = 0;
    std::cout << fmt::format("\n{:<16}  {:>10}  {:<16}  {:<16}  {}\n", "LAYER", "SIZE",
                             "CREATED (UTC)", "LAST USED (UTC)", "AFTER STEP");
    for (const auto& l : layers) {
        layer_bytes += l.size;
        std::cout << fmt::format("{:<16}  {:>10}  {:<16}  {:<16}  {} ({})\n", l.key.substr(0, 16),
                                 util::human_bytes(l.size), when(l.created), when(l.used), l.step,
                                 l.kind);
    }
    std::cout << fmt::format("{} layer{}, {} in {}\n", layers.size(), layers.size() == 1 ? "" : "s",
                             util::human_bytes(layer_bytes),
                             bake::layer_cache_dir(g.cache_dir()).string());
}

void gc(const Globals& g, const std::string& max_size) {
    std::optional<std::uint64_t> limit;
    if (!max_size.empty()) {
        auto p = util::parse_size(max_size);
        if (!p.bytes)
            throw UsageError(fmt::format("--max-size '{}': {}", max_size, p.error),
                             "e.g. --max-size 20GiB");
        limit = *p.bytes;
    }
    fetch::Cache cache(g.cache_dir());
    // Layers go first (a bake rebuilds one from its step); what is left of the limit is the
    // artifacts'.
    std::optional<std::uint64_t> layer_limit;
    if (limit) {
        std::uint64_t artifacts = 0;
        for (const auto& s : cache.list())
            artifacts += s.size;
        layer_limit = *limit > artifacts ? *limit - artifacts : 0;
    }
    auto layers = bake::LayerStore(bake::layer_cache_dir(g.cache_dir())).prune(layer_limit);
    std::optional<std::uint64_t> artifact_limit;
    if (limit) artifact_limit = *limit > layers.kept ? *limit - layers.kept : 0;
    auto r = fetch::collect_garbage(cache, artifact_limit);
    r.removed.insert(r.removed.begin(), layers.removed.begin(), layers.removed.end());
    r.freed += layers.freed;
    if (g.json) {
        std::cout << nlohmann::json{{"removed", r.removed},
                                    {"freed", r.freed},
                                    {"kept", r.kept},
                                    {"layers_kept", layers.kept}}
                         .dump(2)
                  << "\n";
        return;
    }
    for (const auto& line : r.removed)
        std::cout << "removed " << line << "\n";
    std::cout << fmt::format("freed {}; {} of artifacts and {} of layers kept in {}\n",
                             util::human_bytes(r.freed), util::human_bytes(r.kept),
                             util::human_bytes(layers.kept), cache.root().string());
    if (g.verbose) { // what was kept, as `cache ls -v` lists it
        std::cout << "\n";
        list(g);
    }
}

void register_cache(CLI::App& app, Globals& g) {
    auto* cmd = app.add_subcommand("cache", "Inspect and trim the cache: artifacts and layers");
    cmd->require_subcommand(1);
    auto* ls =
        cmd->add_subcommand("ls", "List cached artifacts and layers, least recently used first");
    ls->callback([&g] {
        list(g);
        g.exit_code = 0;
    });
    static std::string max_size;
    auto* gcc = cmd->add_subcommand(
        "gc", "Remove abandoned partial downloads and unfinished layers; with --max-size, "
              "also the least recently used layers, then artifacts, until the cache fits");
    gcc->add_option("--max-size", max_size, "Largest size the cache may keep, e.g. 20GiB")
        ->type_name("SIZE");
    gcc->callback([&g] {
        gc(g, max_size);
        g.exit_code = 0;
    });
}

} // namespace

static const CommandRegistrar registered(80, register_cache);

} // namespace ccbake::cli
