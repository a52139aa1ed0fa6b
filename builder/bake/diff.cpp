#include "bake/diff.h"

#include "bake/content.h"
#include "bake/readonly_root.h"
#include "image/namespace.h"
#include "util/error.h"
#include "util/file.h"

#include <fmt/format.h>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

namespace fs = std::filesystem;
using nlohmann::json;

namespace ccbake::bake {

namespace {

// One side: its manifest (null when an image has none beside it) and its content list.
struct Side {
    std::string name;
    json manifest;
    std::optional<std::vector<target::ContentEntry>> content;
};

std::optional<json> manifest_at(const fs::path& path) {
    auto text = util::read_file(path);
    if (!text) return std::nullopt;
    json m = json::parse(*text, nullptr, false);
    if (m.is_discarded() || !m.is_object() || !m.contains("recipe")) return std::nullopt;
    return m;
}

Side load_side(const fs::path& path) {
    Side s{path.string(), nullptr, std::nullopt};
    if (!fs::exists(path))
        throw UsageError(fmt::format("{} does not exist", path.string()),
                         "give two baked images or two manifests (OUT.manifest.json)");
    if (path.extension() == ".json") {
        auto m = manifest_at(path);
        if (!m) throw UsageError(fmt::format("{} is not a ccbake manifest", path.string()));
        s.manifest = *m;
        if (s.manifest.contains("content") && s.manifest["content"].contains("list")) {
            fs::path list = path.parent_path() / s.manifest["content"]["list"].get<std::string>();
            if (auto text = util::read_file(list)) s.content = target::parse_content(*text);
        }
        return s;
    }
    fs::path beside = path;
    beside += ".manifest.json";
    if (auto m = manifest_at(beside)) s.manifest = *m;
    image::enter_private_mount_namespace();
    ReadOnlyRoot root(path);
    s.content = baked_content(root.root());
    return s;
}

struct Change {
    std::string section, name, what;
};

// Entries of `key` in both manifests, by `id`, compared by `describe`.
void compare_lists(const Side& a, const Side& b, const std::string& section, const char* key,
                   const std::function<std::string(const json&)>& id,
                   const std::function<std::string(const json&)>& describe,
                   std::vector<Change>& out) {
    auto index = [&](const json& m) {
        std::map<std::string, std::string> entries;
        if (m.is_object() && m.contains(key) && m[key].is_array())
            for (const auto& e : m[key])
                entries[id(e)] = describe(e);
        return entries;
    };
    auto x = index(a.manifest), y = index(b.manifest);
    for (const auto& [name, d] : x) {
        auto it = y.find(name);
        if (it == y.end())
            out.push_back({section, name, "removed (" + d + ")"});
        else if (it->second != d)
            out.push_back({section, name, d + " -> " + it->second});
    }
    for (const auto& [name, d] : y)
        if (!x.count(name)) out.push_back({section, name, "added (" + d + ")"});
}

std::string field(const json& e, const char* key) {
    return e.contains(key) && e[key].is_string() ? e[key].get<std::string>() : "";
}

} // namespace

int diff(const DiffOptions& o) {
    Side a = load_side(o.a), b = load_side(o.b);
    std::vector<Change> changes;
    std::vector<std::string> notes;
    if (a.manifest.is_null() || b.manifest.is_null())
        notes.push_back("no manifest beside an image: only the files are compared");
    compare_lists(
        a, b, "artifact", "artifacts", [](const json& e) { return field(e, "name"); },
        [](const json& e) {
            return fmt::format("{} sha256 {}", field(e, "url"), field(e, "sha256").substr(0, 12));
        },
        changes);
    compare_lists(
        a, b, "step", "steps", [](const json& e) { return field(e, "name"); },
        [](const json& e) {
            return fmt::format("{} {}", field(e, "kind"), field(e, "hash").substr(0, 12));
        },
        changes);
    compare_lists(
        a, b, "package", "packages",
        [](const json& e) { return field(e, "name") + ":" + field(e, "architecture"); },
        [](const json& e) { return field(e, "version"); }, changes);
    if (a.content && b.content) {
        for (const auto& c : target::compare_content(*a.content, *b.content))
            changes.push_back({"file", c.path, c.what});
    } else {
        notes.push_back("a content list is missing (OUT.content beside a manifest): files are "
                        "not compared");
    }

    if (o.json) {
        json j = {{"a", a.name},
                  {"b", b.name},
                  {"same", changes.empty()},
                  {"notes", notes},
                  {"changes", json::array()}};
        for (const auto& c : changes)
            j["changes"].push_back({{"kind", c.section}, {"name", c.name}, {"what", c.what}});
        std::cout << j.dump(2) << "\n";
    } else {
        for (const auto& n : notes)
            std::cout << "note: " << n << "\n";
        for (const auto& c : changes)
            std::cout << fmt::format("{:<9}{}: {}\n", c.section, c.name, c.what);
        std::cout << (changes.empty() ? fmt::format("{} and {}: no difference\n", a.name, b.name)
                                      : fmt::format("{} differences\n", changes.size()));
    }
    return changes.empty() ? kExitOk : kExitFailed;
}

} // namespace ccbake::bake
