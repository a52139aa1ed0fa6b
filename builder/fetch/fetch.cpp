#include "fetch/fetch.h"

#include "fetch/cache.h"
#include "fetch/downloader.h"
#include "fetch/file_digest.h"
#include "fetch/lockfile.h"
#include "fetch/progress.h"
#include "util/error.h"
#include "util/strings.h"

#include <chrono>
#include <fmt/format.h>

namespace ccbake::fetch {

namespace fs = std::filesystem;

namespace {

struct Want {
    const recipe::Artifact* artifact;
    Expected expected;
};

// The recipe's digests, RECIPE.lock's pins included (the loader applied them).
Expected expected_for(const recipe::Artifact& a) {
    return {a.md5, a.sha256, a.size, a.url};
}

// The cached file for `w`, re-hashed unless its stamp proves it unchanged. A cached file that
// no longer matches is evicted (and downloaded again by the caller).
std::optional<Fetched> from_cache(Cache& cache, const Want& w, const Options& o,
                                  Progress& progress) {
    if (o.repin && w.expected.md5.empty() && w.expected.sha256.empty()) return std::nullopt;
    auto sha = cache.lookup(w.expected);
    if (!sha) return std::nullopt;
    const std::string& name = w.artifact->name;
    fs::path path = cache.object(*sha);
    if (!o.reverify && cache.stamp_fresh(*sha)) {
        auto s = cache.stamp(*sha);
        if (w.expected.md5.empty() || s->md5 == w.expected.md5) {
            cache.touch(*sha, name);
            return Fetched{path, s->md5, *sha, s->size, false};
        }
    }
    FileDigests d = digest_file(path);
    bool good = d.sha256 == *sha && (w.expected.md5.empty() || d.md5 == w.expected.md5) &&
                (!w.expected.size || d.size == w.expected.size);
    if (!good) {
        progress.note(name, "corrupt",
                      fmt::format("cached file {} does not match its digests (sha256 {}); removed, "
                                  "downloading again",
                                  path.string(), d.sha256));
        cache.evict(*sha);
        return std::nullopt;
    }
    cache.restamp(*sha, d.md5, name);
    return Fetched{path, d.md5, *sha, d.size, false};
}

TransferOptions transfer_options(const Options& o) {
    TransferOptions t;
    t.jobs = std::max(1, o.jobs);
    t.retry.tries = std::max(1, o.tries);
    t.low_speed_time_s = o.low_speed_time;
    t.connect_timeout_s = o.connect_timeout;
    return t;
}

Request request_for(const Cache& cache, const Want& w, const std::string& partial_dir_key) {
    Request q;
    q.name = w.artifact->name;
    q.urls = w.artifact->urls();
    q.partial = cache.partial(partial_dir_key);
    q.md5 = w.expected.md5;
    q.sha256 = w.expected.sha256;
    q.size = w.expected.size;
    return q;
}

[[noreturn]] void throw_failures(const std::vector<const Outcome*>& failed) {
    if (failed.size() == 1) {
        Error e(failed[0]->error,
                failed[0]->hint.empty()
                    ? "check the URL and your network; `ccbake fetch` resumes where it stopped"
                    : failed[0]->hint);
        if (failed[0]->attempts.size() > 1)
            for (const auto& a : failed[0]->attempts)
                e.add_context("tried " + a);
        throw e;
    }
    Error e(fmt::format("{} artifacts could not be fetched", failed.size()),
            "check the URLs and your network; `ccbake fetch` resumes where it stopped");
    for (const auto* f : failed)
        e.add_context(f->error);
    throw e;
}

} // namespace

void check_pinned(const recipe::Recipe& r, const Options& options) {
    if (options.allow_unpinned) return;
    std::vector<std::string> unpinned;
    for (const auto& a : r.artifacts)
        if (a.md5.empty() && a.sha256.empty()) unpinned.push_back(a.name);
    if (unpinned.empty()) return;
    throw UsageError(
        fmt::format("{} artifact{} with no checksum: {} (no md5 in the recipe and no entry in {})",
                    unpinned.size(), unpinned.size() == 1 ? "" : "s", util::join(unpinned, ", "),
                    lock_path_for(r).filename().string()),
        fmt::format(
            "pin them with `ccbake lock {}`, or pass --allow-unpinned to accept them unverified",
            r.path.string()));
}

std::map<std::string, Fetched> ensure_artifacts(const recipe::Recipe& r, const Options& options) {
    auto t0 = std::chrono::steady_clock::now();
    if (!options.repin) check_pinned(r, options);
    Cache cache(options.cache);
    auto progress = make_progress(options.json);
    std::map<std::string, Fetched> result;
    std::vector<Want> missing;
    for (const auto& a : r.artifacts) {
        Want w{&a, expected_for(a)};
        if (auto f = from_cache(cache, w, options, *progress))
            result[a.name] = *f;
        else
            missing.push_back(w);
    }
    const int cached = int(result.size());
    if (!missing.empty() && options.offline) {
        std::vector<std::string> names;
        for (const auto& w : missing)
            names.push_back(w.artifact->name);
        throw Error(
            fmt::format("--offline: {} artifact{} not in the cache {}: {}", names.size(),
                        names.size() == 1 ? " is" : "s are", options.cache.string(),
                        util::join(names, ", ")),
            fmt::format(
                "run `ccbake fetch {}` where the network is reachable, with the same --cache",
                r.path.string()));
    }

    // Download what this process holds the lock for; wait for the others (another ccbake
    // is downloading them) and take them from the cache when it is done.
    std::uint64_t bytes = 0;
    int downloaded = 0;
    std::vector<Outcome> outcomes_keep;
    std::vector<const Outcome*> failed;
    std::vector<Want> round = missing;
    for (int pass = 0; pass < 2 && !round.empty(); ++pass) {
        std::vector<Want> mine, theirs;
        std::vector<FileLock> locks;
        for (const auto& w : round) {
            std::string key = Cache::key(w.expected);
            FileLock l = pass == 0 ? FileLock::try_lock(cache.lock_path(key))
                                   : FileLock::lock(cache.lock_path(key));
            if (!l.held()) {
                theirs.push_back(w);
                progress->note(w.artifact->name, "waiting",
                               "another ccbake process is downloading it; waiting");
                continue;
            }
            if (auto f = from_cache(cache, w, options, *progress)) { // it arrived meanwhile
                result[w.artifact->name] = *f;
                continue;
            }
            mine.push_back(w);
            locks.push_back(std::move(l));
        }
        std::vector<Request> requests;
        for (const auto& w : mine)
            requests.push_back(request_for(cache, w, Cache::key(w.expected)));
        if (!requests.empty()) {
            std::error_code ec;
            fs::create_directories(cache.partial("x").parent_path(), ec);
            if (ec)
                throw Error(fmt::format("cannot create the cache {}: {}", options.cache.string(),
                                        ec.message()),
                            "choose a writable directory with --cache or $CCBAKE_CACHE");
        }
        auto outcomes = download(requests, transfer_options(options), *progress);
        for (size_t i = 0; i < outcomes.size(); ++i) {
            const Outcome& o = outcomes[i];
            if (!o.ok) {
                outcomes_keep.push_back(o);
                continue;
            }
            fs::path path = cache.insert(requests[i].partial, o.md5, o.sha256, mine[i].expected,
                                         requests[i].name);
            result[requests[i].name] = Fetched{path, o.md5, o.sha256, o.size, true};
            bytes += o.size;
            downloaded++;
        }
        round = theirs;
    }
    for (const auto& o : outcomes_keep)
        failed.push_back(&o);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!failed.empty()) throw_failures(failed);
    progress->summary(downloaded, cached, bytes, seconds);
    return result;
}

} // namespace ccbake::fetch
