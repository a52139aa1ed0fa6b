#include "bake/layers.h"

#include "archive/layer.h"
#include "target/files.h"
#include "target/walk.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/file.h"
#include "util/strings.h"
#include "version.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;
using nlohmann::json;

namespace ccbake::bake {

namespace {

constexpr const char* kPartial = ".partial-";

std::int64_t now() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

json to_json(const LayerRecord& r) {
    return {{"format", 1},        {"key", r.key},   {"parent", r.parent},   {"step", r.step},
            {"kind", r.kind},     {"hash", r.hash}, {"changes", r.changes}, {"removed", r.removed},
            {"sha256", r.sha256}, {"size", r.size}, {"entries", r.entries}, {"created", r.created}};
}

std::optional<LayerRecord> read_record(const fs::path& dir) {
    auto text = util::read_file(dir / "layer.json");
    if (!text) return std::nullopt;
    try {
        json j = json::parse(*text);
        LayerRecord r;
        r.key = j.at("key");
        r.parent = j.at("parent");
        r.step = j.at("step");
        r.kind = j.at("kind");
        r.hash = j.at("hash");
        r.changes = j.at("changes").get<std::vector<std::string>>();
        r.removed = j.at("removed").get<std::vector<std::string>>();
        r.sha256 = j.at("sha256");
        r.size = j.at("size");
        r.entries = j.at("entries");
        r.created = j.at("created");
        std::error_code ec;
        auto t = fs::last_write_time(dir / "layer.json", ec);
        r.used = ec ? r.created
                    : std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::file_clock::to_sys(t).time_since_epoch())
                          .count();
        return r;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::uint64_t tree_bytes(const fs::path& dir) {
    std::uint64_t total = 0;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_regular_file(ec)) total += it->file_size(ec);
    return total;
}

// A partial folder is locked (flock) by the bake writing it for as long as it writes: one no
// process holds is abandoned. (A bake runs as PID 1 of its own PID namespace, so a PID in the
// name would tell nothing.)
bool abandoned(const fs::path& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return false;
    bool free = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    ::close(fd);
    return free;
}

} // namespace

LayerStore::LayerStore(fs::path dir) : dir_(std::move(dir)) {}

fs::path LayerStore::archive(const std::string& key) const {
    return dir_ / key / "layer.tar";
}

std::optional<LayerRecord> LayerStore::verified(const std::string& key, std::string& why) const {
    why.clear();
    const fs::path dir = dir_ / key;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return std::nullopt;
    auto rec = read_record(dir);
    if (!rec || rec->key != key) {
        why = "its layer.json is missing or unreadable";
    } else {
        try {
            const std::string actual = util::sha256_file(archive(key));
            if (actual != rec->sha256)
                why =
                    fmt::format("layer.tar has sha256 {}, not the {} recorded when it was written",
                                actual, rec->sha256);
        } catch (const Error& e) {
            why = e.what();
        }
    }
    if (!why.empty()) {
        fs::remove_all(dir, ec);
        return std::nullopt;
    }
    fs::last_write_time(dir / "layer.json", fs::file_time_type::clock::now(), ec); // used now
    return rec;
}

bool LayerStore::store(LayerRecord rec, const fs::path& root,
                       const std::vector<std::string>& paths) {
    fs::create_directories(dir_);
    std::string tmpl = (dir_ / fmt::format("{}{}-XXXXXX", kPartial, rec.key)).string();
    if (!::mkdtemp(tmpl.data()))
        throw Error(
            fmt::format("cannot create a folder in {}: {}", dir_.string(), std::strerror(errno)));
    const fs::path staged = tmpl;
    std::error_code ec;
    struct Locked {
        int fd;
        ~Locked() {
            if (fd >= 0) ::close(fd); // releases the flock
        }
    } locked{::open(staged.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (locked.fd < 0 || ::flock(locked.fd, LOCK_EX) != 0)
        throw Error(fmt::format("cannot lock {}: {}", staged.string(), std::strerror(errno)));
    try {
        archive::write_layer(root, paths, staged / "layer.tar");
        rec.sha256 = util::sha256_file(staged / "layer.tar");
        rec.size = fs::file_size(staged / "layer.tar");
        rec.entries = paths.size();
        rec.created = now();
        util::write_file_atomic(staged / "layer.json", to_json(rec).dump(2) + "\n");
        if (::rename(staged.c_str(), (dir_ / rec.key).c_str()) != 0) {
            if (errno == EEXIST || errno == ENOTEMPTY) { // another bake stored it first
                fs::remove_all(staged, ec);
                return false;
            }
            throw Error(
                fmt::format("cannot store the layer {}: {}", rec.key, std::strerror(errno)));
        }
    } catch (...) {
        fs::remove_all(staged, ec);
        throw;
    }
    return true;
}

std::vector<LayerRecord> LayerStore::list() const {
    std::vector<LayerRecord> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_, ec))
        if (!e.path().filename().string().starts_with("."))
            if (auto r = read_record(e.path())) out.push_back(*r);
    std::sort(out.begin(), out.end(),
              [](const LayerRecord& a, const LayerRecord& b) { return a.used < b.used; });
    return out;
}

LayerStore::Pruned LayerStore::prune(std::optional<std::uint64_t> max_bytes) const {
    Pruned p;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_, ec)) {
        const std::string name = e.path().filename().string();
        if (!name.starts_with(kPartial) || !abandoned(e.path())) continue;
        std::uint64_t bytes = tree_bytes(e.path());
        fs::remove_all(e.path(), ec);
        p.freed += bytes;
        p.removed.push_back(
            fmt::format("unfinished layer {} ({})", name, util::human_bytes(bytes)));
    }
    auto layers = list();
    for (const auto& l : layers)
        p.kept += l.size;
    for (const auto& l : layers) {
        if (!max_bytes || p.kept <= *max_bytes) break;
        fs::remove_all(dir_ / l.key, ec);
        p.kept -= l.size;
        p.freed += l.size;
        p.removed.push_back(fmt::format("layer {} (after step '{}', {})", l.key.substr(0, 16),
                                        l.step, util::human_bytes(l.size)));
    }
    return p;
}

TreeState tree_state(const fs::path& root) {
    TreeState state;
    // The chroot's own mounts hide the image's folders below them: steps cannot change those.
    target::WalkOptions o{.excluded = {"/proc", "/sys", "/dev", "/run", "/var/cache/apt/archives"},
                          .cross_mounts = true};
    target::walk_tree(
        root, o, [&](const std::string& path, const struct stat& st, int, const std::string&) {
            state[path] = {static_cast<std::uint64_t>(st.st_ino),
                           static_cast<std::uint64_t>(st.st_dev),
                           S_ISREG(st.st_mode) ? static_cast<std::uint64_t>(st.st_size) : 0,
                           st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec,
                           st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec,
                           static_cast<unsigned>(st.st_mode),
                           st.st_uid,
                           st.st_gid};
        });
    return state;
}

TreeDelta tree_delta(const TreeState& before, const TreeState& after) {
    TreeDelta d;
    for (const auto& [path, was] : before) {
        auto it = after.find(path);
        if (it == after.end() || (it->second.mode & S_IFMT) != (was.mode & S_IFMT))
            d.removed.push_back(path);
    }
    for (const auto& [path, is] : after) {
        auto it = before.find(path);
        if (it == before.end() || !(it->second == is)) d.changed.push_back(path);
    }
    return d; // std::map order: a parent sorts before what is below it
}

std::string layer_chain_seed(const std::string& base_sha256, std::uint64_t disk_size,
                             const std::map<std::string, std::string>& environment) {
    std::string text =
        fmt::format("ccbake layers 1\n{}\n{}\n{}\n", CCBAKE_VERSION, base_sha256, disk_size);
    for (const auto& [k, v] : environment)
        text += k + "=" + v + "\n";
    return util::sha256_hex(text);
}

std::vector<std::string> layer_keys(const std::string& seed, const recipe::Recipe& r) {
    std::vector<std::string> keys;
    std::string parent = seed;
    for (const auto& s : r.steps) {
        parent = util::sha256_hex(fmt::format("{}\n{}\n{}\n{}\n", parent, s.name, s.kind, s.hash));
        keys.push_back(parent);
    }
    return keys;
}

LayerSession::LayerSession(LayerStore& store, std::vector<std::string> keys, fs::path root,
                           Report& report)
    : store_(store), keys_(std::move(keys)), root_(std::move(root)), report_(report) {}

std::vector<StepOutcome> LayerSession::restore(const recipe::Recipe& r) {
    std::vector<LayerRecord> found;
    for (std::size_t i = 0; i < keys_.size(); ++i) {
        std::string why;
        auto rec = store_.verified(keys_[i], why);
        if (!why.empty())
            report_.info(fmt::format("layer cache: the layer after step '{}' is not used: {} "
                                     "(removed; the step runs again)",
                                     r.steps[i].name, why));
        if (!rec || rec->parent != (i ? keys_[i - 1] : "")) break;
        found.push_back(*rec);
    }
    std::vector<StepOutcome> outcomes;
    for (std::size_t i = 0; i < found.size(); ++i) {
        const LayerRecord& l = found[i];
        for (auto it = l.removed.rbegin(); it != l.removed.rend(); ++it)
            target::remove_tree(root_, *it);
        archive::apply_layer(store_.archive(l.key), root_);
        outcomes.push_back({r.steps[i].name, r.steps[i].kind, r.steps[i].hash, true, l.changes, 0});
    }
    if (!found.empty()) {
        std::uint64_t bytes = 0;
        for (const auto& l : found)
            bytes += l.size;
        report_.info(fmt::format("layer cache: the first {} of {} steps restored ({} of layers)",
                                 found.size(), keys_.size(), util::human_bytes(bytes)));
    }
    before_ = tree_state(root_);
    return outcomes;
}

void LayerSession::after_step(std::size_t index, const StepOutcome& outcome) {
    TreeState after = tree_state(root_);
    TreeDelta delta = tree_delta(before_, after);
    before_ = std::move(after);
    LayerRecord rec;
    rec.key = keys_.at(index);
    rec.parent = index ? keys_[index - 1] : "";
    rec.step = outcome.name;
    rec.kind = outcome.kind;
    rec.hash = outcome.hash;
    rec.changes = outcome.changes;
    rec.removed = delta.removed;
    try {
        store_.store(rec, root_, delta.changed);
    } catch (const Error& e) {
        if (e.exit_code() == kExitInterrupted) throw;
        report_.info(
            fmt::format("layer cache: no layer for step '{}': {}", outcome.name, e.what()));
    }
}

} // namespace ccbake::bake
