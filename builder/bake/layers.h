#pragma once
// The layer cache: the image's state after each step, so that a bake whose first K steps are
// those of an earlier bake starts from that state and applies only the rest (docs/bake.md,
// "The layer cache").
//
// Storage: a layer is a file-level delta, an uncompressed pax archive of the paths the step
// added or changed (archive/layer.h: content, mode, owner, xattrs, links) plus the list of
// paths it removed, of the image's root file system and its ESP. It needs nothing from the
// host's kernel or file system (no nbd, no reflinks), so it works wherever a bake does, and a
// layer holds only what its step wrote. A changed path is found by comparing every path's
// metadata before and after the step (inode, ctime, mtime, size, mode, owner): a step cannot
// change a file without changing its ctime.
//
// Keys: layer i's key is the sha256 of layer i-1's key (for the first, of the chain seed: the
// base image's sha256, the staged disk's size, ccbake's version, the bake's environment) and
// step i's name, kind and content hash, so a key names one state reached one way.
//
// Trust: a layer is used only when its archive's sha256 is the one recorded when it was
// written; one that is not is reported, removed and not used. A layer appears by rename(2)
// of its finished folder, so an interrupted bake leaves only a `.partial-*` folder (locked while
// it is written; `cache gc` removes one nobody holds), never a layer; two bakes writing one key
// keep the first.
//
// Layout: CACHE/layers/KEY/{layer.tar,layer.json}.
#include "bake/apply.h"
#include "bake/report.h"
#include "recipe/recipe.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ccbake::bake {

struct LayerRecord {
    std::string key, parent; // parent: "" for a layer of the first step
    std::string step, kind, hash;
    std::vector<std::string> changes;   // the step's own report, for the manifest
    std::vector<std::string> removed;   // paths the step removed
    std::string sha256;                 // of layer.tar
    std::uint64_t size = 0;             // of layer.tar
    std::size_t entries = 0;            // paths in layer.tar
    std::int64_t created = 0, used = 0; // unix seconds; used: layer.json's modification time
};

class LayerStore {
  public:
    explicit LayerStore(std::filesystem::path dir); // CACHE/layers
    const std::filesystem::path& dir() const { return dir_; }

    // The layer `key` when it is there and its archive has the recorded sha256. nullopt when
    // it is absent (`why` empty) or fails verification (`why` says how; the layer is removed).
    std::optional<LayerRecord> verified(const std::string& key, std::string& why) const;
    std::filesystem::path archive(const std::string& key) const;

    // Writes the layer of `paths` of `root` under rec.key, whole or not at all; false when
    // another bake stored the same key first (the record is then left as it was).
    bool store(LayerRecord rec, const std::filesystem::path& root,
               const std::vector<std::string>& paths);

    std::vector<LayerRecord> list() const; // complete layers, least recently used first
    struct Pruned {
        std::vector<std::string> removed; // one line each
        std::uint64_t freed = 0, kept = 0;
    };
    // Removes unfinished folders of bakes no longer running and, while the layers take more
    // than `max_bytes`, the least recently used layers.
    Pruned prune(std::optional<std::uint64_t> max_bytes) const;

  private:
    std::filesystem::path dir_;
};

// The metadata of every path of the image (root file system and ESP), without the chroot's own
// mounts: what differs between two of these is what a step changed.
struct PathState {
    std::uint64_t ino = 0, dev = 0, size = 0;
    std::int64_t ctime_ns = 0, mtime_ns = 0;
    unsigned mode = 0, uid = 0, gid = 0;
    bool operator==(const PathState&) const = default;
};
using TreeState = std::map<std::string, PathState>;
TreeState tree_state(const std::filesystem::path& root);

struct TreeDelta {
    std::vector<std::string> changed; // added or changed, parents before children
    std::vector<std::string> removed; // gone, or replaced by another type of file
};
TreeDelta tree_delta(const TreeState& before, const TreeState& after);

// What the chain of a bake starts from.
std::string layer_chain_seed(const std::string& base_sha256, std::uint64_t disk_size,
                             const std::map<std::string, std::string>& environment);
// keys[i]: the key of the state after steps 0..i of `r`.
std::vector<std::string> layer_keys(const std::string& seed, const recipe::Recipe& r);

// One bake's use of the cache: restore the longest stored prefix, then store a layer after
// each step applied.
class LayerSession {
  public:
    LayerSession(LayerStore& store, std::vector<std::string> keys, std::filesystem::path root,
                 Report& report);
    // Applies the verified layers of the first steps of `r` to the root; returns their
    // outcomes (as their bake reported them), one per step restored.
    std::vector<StepOutcome> restore(const recipe::Recipe& r);
    // After step `index` (0-based) was applied: stores its layer. A layer that cannot be
    // written is reported and skipped; the bake goes on.
    void after_step(std::size_t index, const StepOutcome& outcome);

  private:
    LayerStore& store_;
    std::vector<std::string> keys_;
    std::filesystem::path root_;
    Report& report_;
    TreeState before_;
};

} // namespace ccbake::bake
