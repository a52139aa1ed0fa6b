#include "fetch/gc.h"

#include "util/strings.h"

#include <fmt/format.h>
#include <fstream>

namespace ccbake::fetch {

namespace fs = std::filesystem;

namespace {

std::uint64_t size_of(const fs::path& p) {
    std::error_code ec;
    auto n = fs::file_size(p, ec);
    return ec ? 0 : n;
}

// Partial downloads whose lock is free belong to no running ccbake.
void sweep_partials(Cache& cache, GcResult& r) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(cache.root() / "partial", ec)) {
        std::string name = e.path().filename().string();
        if (!util::starts_with(std::string(e.path().extension()), ".partial")) continue;
        std::string key = name.substr(0, name.size() - std::string(".partial").size());
        FileLock lock = FileLock::try_lock(cache.lock_path(key));
        if (!lock.held()) continue;
        std::uint64_t n = size_of(e.path());
        if (fs::remove(e.path(), ec)) {
            r.freed += n;
            r.removed.push_back(fmt::format("partial download {} ({})", key, util::human_bytes(n)));
        }
    }
}

void sweep_index(Cache& cache, GcResult& r) {
    std::error_code ec;
    for (const char* kind : {"md5", "url"}) {
        for (const auto& e : fs::directory_iterator(cache.root() / "index" / kind, ec)) {
            std::string entry = e.path().filename().string();
            std::error_code rc;
            std::string target;
            if (auto in = std::ifstream(e.path())) std::getline(in, target);
            if (target.size() == 64 && fs::exists(cache.object(target), rc)) continue;
            fs::remove(e.path(), rc);
            r.removed.push_back(fmt::format("index entry {}/{}", kind, entry));
        }
    }
}

} // namespace

GcResult collect_garbage(Cache& cache, std::optional<std::uint64_t> max_size) {
    GcResult r;
    sweep_partials(cache, r);
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(cache.tmp_dir(), ec)) {
        std::uint64_t n = 0;
        for (const auto& f : fs::recursive_directory_iterator(e.path(), ec))
            if (f.is_regular_file(ec)) n += size_of(f.path());
        if (e.is_regular_file(ec)) n = size_of(e.path());
        fs::remove_all(e.path(), ec);
        r.freed += n;
        r.removed.push_back(fmt::format("scratch {}", e.path().filename().string()));
    }
    auto objects = cache.list(); // least recently used first
    std::uint64_t total = 0;
    for (const auto& s : objects)
        total += s.size;
    for (const auto& s : objects) {
        if (!max_size || total <= *max_size) break;
        cache.evict(s.sha256);
        total -= s.size;
        r.freed += s.size;
        r.removed.push_back(fmt::format("{} {} ({})", s.sha256.substr(0, 16),
                                        s.names.empty() ? "-" : util::join(s.names, ","),
                                        util::human_bytes(s.size)));
    }
    sweep_index(cache, r);
    r.kept = total;
    return r;
}

} // namespace ccbake::fetch
