// `bake --rootfs DIR`: the recipe applied to a root directory in place.
#include "bake/apply.h"
#include "bake/content.h"
#include "bake/manifest.h"
#include "bake/pipeline.h"
#include "bake/postcheck.h"
#include "bake/preflight.h"
#include "bake/record.h"
#include "bake/report.h"
#include "fetch/fetch.h"
#include "image/chroot.h"
#include "image/namespace.h"
#include "target/in_root.h"
#include "util/error.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace ccbake::bake {

int bake_rootfs(const recipe::Recipe& r, const BakeOptions& o) {
    // First, before any thread starts: mounts and commands of this bake stay private to it.
    image::isolate_bake();
    Report report(o.json, o.verbose);
    const fs::path root = fs::absolute(o.rootfs).lexically_normal();
    const fs::path logs = o.log_dir.empty() ? default_log_dir(o.cache, r) : o.log_dir;

    // Preflight: refuse a root that is not what the recipe bakes before anything is written.
    ContentFacts facts = report.phase("preflight", [&] {
        if (!fs::is_directory(root))
            throw UsageError(fmt::format("--rootfs {} is not a directory", root.string()));
        ContentFacts f = check_contents(root, r, root.string());
        report.info(
            fmt::format("{}, kernel {}", f.os, f.kernel.empty() ? "from a step" : f.kernel));
        return f;
    });

    // Fetch: every artifact verified in the cache before the first step runs.
    auto artifacts = report.phase("fetch", [&] { return fetch_artifacts(r, o, report); });

    // Attach: the chroot's API file systems, policy-rc.d, all inside the private namespace.
    auto target = report.phase("attach", [&] {
        auto t = std::make_unique<image::ChrootTarget>(root);
        t->share_package_cache(package_cache(o.cache, r));
        t->set_environment(reproducible_environment(root));
        return t;
    });

    // Steps: each once, journaled, with its own log and timeout.
    auto outcomes = report.phase("steps", [&] {
        report.info("logs: " + logs.string());
        ApplyOptions ao{logs, [&](const std::string& name) { return artifacts.at(name).path; }};
        return apply_steps(*target, r, ao, report);
    });
    target->release();

    // Post-checks: nothing of the bake's helpers left, the image fit to be cloned and booted.
    report.phase("post-checks", [&] { run_post_checks(root, r, {}); });

    // Manifest and SBOM: what the root now is and how it was made.
    report.phase("manifest", [&] {
        ManifestInput mi{r,        artifacts,    {"rootfs", root.filename().string(), "", 0},
                         facts.os, facts.kernel, outcomes,
                         "rootfs", {},           {},
                         {}};
        record_bake(root, mi, report);
    });
    report.summary(fmt::format("baked {} into {}", r.name, root.string()));
    return kExitOk;
}

fs::path package_cache(const fs::path& cache, const recipe::Recipe& r) {
    std::string name = fmt::format("{}-{}", r.base.os, r.base.version);
    for (char& c : name) // a folder name, whatever the recipe says
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') c = '_';
    return fs::absolute(cache) / "apt" / name / "archives";
}

fs::path layer_cache_dir(const fs::path& cache) {
    return fs::absolute(cache) / "layers";
}

fs::path default_log_dir(const fs::path& cache, const recipe::Recipe& r) {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    // PIDs inside the bake's namespace are not unique: a random suffix keeps bakes apart.
    fs::path dir = fs::absolute(cache) / "logs";
    fs::create_directories(dir);
    std::string tmpl =
        (dir / fmt::format("{}-{}-XXXXXX", r.name.empty() ? "bake" : r.name, stamp)).string();
    if (::mkdtemp(tmpl.data()) == nullptr)
        throw Error(
            fmt::format("cannot create a log folder in {}: {}", dir.string(), std::strerror(errno)),
            "check that the cache folder is writable, or give --log-dir");
    return tmpl;
}

std::map<std::string, fetch::Fetched> fetch_artifacts(const recipe::Recipe& r, const BakeOptions& o,
                                                      Report& report) {
    fetch::Options fo;
    fo.cache = o.cache;
    fo.offline = o.offline;
    fo.allow_unpinned = o.allow_unpinned;
    fo.json = o.json;
    auto got = fetch::ensure_artifacts(r, fo);
    report.info(fmt::format("{} artifact{} ready", got.size(), got.size() == 1 ? "" : "s"));
    return got;
}

} // namespace ccbake::bake
