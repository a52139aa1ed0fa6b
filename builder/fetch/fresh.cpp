// download_fresh and cache_probe: the two read-only views on artifacts (fetch.h).
#include "fetch/cache.h"
#include "fetch/downloader.h"
#include "fetch/fetch.h"
#include "fetch/progress.h"
#include "util/error.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <unistd.h>

namespace ccbake::fetch {

namespace fs = std::filesystem;

namespace {

// Removes a directory tree when the scope ends (also on errors and Ctrl-C).
struct ScratchDir {
    fs::path path;
    ~ScratchDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

} // namespace

std::map<std::string, Fetched> download_fresh(const recipe::Recipe& r, const Options& options) {
    Cache cache(options.cache);
    ScratchDir scratch{cache.tmp_dir() / fmt::format("check-{}", ::getpid())};
    std::error_code ec;
    fs::remove_all(scratch.path, ec);
    fs::create_directories(scratch.path, ec);
    if (ec)
        throw Error(fmt::format("cannot create {}: {}", scratch.path.string(), ec.message()),
                    "choose a writable cache with --cache");
    std::vector<Request> requests;
    for (size_t i = 0; i < r.artifacts.size(); ++i) {
        Request q;
        q.name = r.artifacts[i].name;
        q.urls = r.artifacts[i].urls();
        q.partial = scratch.path / fmt::format("{}.partial", i);
        requests.push_back(q);
    }
    TransferOptions t;
    t.jobs = std::max(1, options.jobs);
    t.retry.tries = std::max(1, options.tries);
    t.low_speed_time_s = options.low_speed_time;
    t.connect_timeout_s = options.connect_timeout;
    auto progress = make_progress(options.json);
    auto outcomes = download(requests, t, *progress);
    std::map<std::string, Fetched> out;
    std::vector<std::string> errors;
    for (size_t i = 0; i < outcomes.size(); ++i) {
        if (!outcomes[i].ok)
            errors.push_back(outcomes[i].error);
        else
            out[requests[i].name] =
                Fetched{{}, outcomes[i].md5, outcomes[i].sha256, outcomes[i].size, true};
    }
    if (!errors.empty()) {
        Error e(errors.size() == 1
                    ? errors[0]
                    : fmt::format("{} artifacts could not be downloaded", errors.size()),
                "check the URLs and your network");
        if (errors.size() > 1)
            for (const auto& m : errors)
                e.add_context(m);
        throw e;
    }
    return out;
}

std::function<std::string(const recipe::Artifact&)> cache_probe(const fs::path& root) {
    return [root](const recipe::Artifact& a) -> std::string {
        Cache cache(root);
        Expected e{a.md5, a.sha256, a.size, a.url};
        if (auto sha = cache.lookup(e))
            return cache.stamp_fresh(*sha) ? "cached" : "cached, to be re-verified";
        std::error_code ec;
        auto partial = cache.partial(Cache::key(e));
        if (fs::exists(partial, ec))
            return fmt::format("partly downloaded ({})",
                               util::human_bytes(fs::file_size(partial, ec)));
        return "not cached";
    };
}

} // namespace ccbake::fetch
