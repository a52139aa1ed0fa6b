#include "fetch/lockfile.h"

#include "fetch/cache.h"
#include "util/error.h"
#include "util/file.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace ccbake::fetch {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kLockVersion = 1;

std::optional<LockEntry> LockFile::pin(const recipe::Artifact& a) const {
    auto it = artifacts.find(a.name);
    if (it == artifacts.end() || it->second.url != a.url) return std::nullopt;
    return it->second;
}

std::map<std::string, recipe::ArtifactPin> LockFile::pins() const {
    std::map<std::string, recipe::ArtifactPin> out;
    for (const auto& [name, e] : artifacts)
        out[name] = {e.url, e.sha256, e.size};
    return out;
}

fs::path lock_path_for(const fs::path& recipe_file) {
    fs::path p = recipe_file;
    p += ".lock";
    return p;
}

fs::path lock_path_for(const recipe::Recipe& r) {
    return lock_path_for(r.path);
}

LockFile read_lock(const fs::path& path) {
    LockFile lock;
    std::ifstream in(path);
    if (!in) return lock;
    std::ostringstream text;
    text << in.rdbuf();
    auto bad = [&](const std::string& why) {
        return UsageError(
            fmt::format("{}: {}", path.string(), why),
            "regenerate it with `ccbake lock RECIPE` (it is written by ccbake, not by hand)");
    };
    json j = json::parse(text.str(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw bad("not a JSON object");
    if (j.value("version", 0) != kLockVersion)
        throw bad(fmt::format("unsupported lock format version {}", j.value("version", 0)));
    if (!j.contains("artifacts") || !j["artifacts"].is_object()) throw bad("no 'artifacts' object");
    for (const auto& [name, e] : j["artifacts"].items()) {
        if (!e.is_object()) throw bad(fmt::format("artifact '{}' is not an object", name));
        LockEntry entry;
        entry.url = e.value("url", "");
        entry.sha256 = e.value("sha256", "");
        entry.md5 = e.value("md5", "");
        entry.size = e.value("size", std::uint64_t{0});
        if (entry.sha256.size() != 64 || !util::is_hex(entry.sha256))
            throw bad(fmt::format("artifact '{}' has no valid sha256", name));
        lock.artifacts[name] = entry;
    }
    return lock;
}

std::string render_lock(const LockFile& lock, const recipe::Recipe& r) {
    json j;
    j["version"] = kLockVersion;
    j["comment"] = "Written by `ccbake lock`: pins the sha256 and size of every artifact.";
    j["recipe"] = r.path.filename().string();
    j["artifacts"] = json::object();
    for (const auto& [name, e] : lock.artifacts)
        j["artifacts"][name] = {
            {"url", e.url}, {"sha256", e.sha256}, {"md5", e.md5}, {"size", e.size}};
    return j.dump(2) + "\n";
}

void write_lock(const fs::path& path, const LockFile& lock, const recipe::Recipe& r) {
    util::write_file_atomic(path, render_lock(lock, r));
}

} // namespace ccbake::fetch
