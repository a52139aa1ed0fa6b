#include "recipe/merge.h"

#include <algorithm>
#include <fmt/format.h>
#include <set>

namespace ccbake::recipe {

namespace fs = std::filesystem;

std::string declared_step_name(const Node& item) {
    if (!item.is_map() || item.map.size() != 1) return {};
    const Node& body = item.map.front().second;
    const Node* name = body.is_map() ? body.find("name") : nullptr;
    return name && name->is_scalar() ? name->scalar : std::string();
}

namespace {

// Duplicate keys are silently collapsed by most YAML readers; here each one is an error.
void check_duplicate_keys(const Node& n, Diagnostics& diags) {
    if (n.is_map()) {
        std::set<std::string> seen;
        for (const auto& [k, v] : n.map) {
            if (k.is_scalar() && !seen.insert(k.scalar).second)
                diags.error(k.where, fmt::format("duplicate key '{}'", k.scalar),
                            "each key may appear once in a mapping");
            check_duplicate_keys(v, diags);
        }
    } else if (n.is_seq()) {
        for (const auto& item : n.seq)
            check_duplicate_keys(item, diags);
    }
}

void check_duplicate_step_names(const Node& doc, Diagnostics& diags) {
    const Node* steps = doc.find("steps");
    if (!steps || !steps->is_seq()) return;
    std::set<std::string> seen;
    for (const auto& item : steps->seq) {
        std::string name = declared_step_name(item);
        if (name.empty()) continue;
        if (!seen.insert(name).second) {
            const Node* at = item.map.front().second.find("name");
            diags.error(at->where, fmt::format("duplicate step name '{}'", name),
                        "step names identify steps in the journal and must be unique");
        }
    }
}

void merge_into(Node& into, const Node& from);

void merge_steps(Node& into, const Node& from) {
    if (!into.is_seq() || !from.is_seq()) {
        into = from;
        return;
    }
    for (const auto& item : from.seq) {
        std::string name = declared_step_name(item);
        auto same = std::find_if(into.seq.begin(), into.seq.end(), [&](const Node& existing) {
            return !name.empty() && declared_step_name(existing) == name;
        });
        if (same != into.seq.end())
            *same = item;
        else
            into.seq.push_back(item);
    }
}

void merge_into(Node& into, const Node& from) {
    if (!into.is_map() || !from.is_map()) {
        into = from;
        return;
    }
    for (const auto& [k, v] : from.map) {
        Node* existing = into.find(k.scalar);
        if (!existing)
            into.map.push_back({k, v});
        else if (k.scalar == "steps")
            merge_steps(*existing, v);
        else
            merge_into(*existing, v);
    }
}

std::optional<Node> load_recursive(const fs::path& path, std::vector<fs::path>& stack,
                                   std::vector<std::string>& files, Diagnostics& diags) {
    std::optional<Node> doc = load_yaml_file(path, diags);
    if (!doc) return std::nullopt;
    files.push_back(path.string());
    if (!doc->is_map()) {
        diags.error(
            doc->where,
            fmt::format("a recipe is a mapping of keys, this file holds {}", doc->kind_name()),
            "start with 'name:', then 'base:', 'artifacts:' and 'steps:'");
        return std::nullopt;
    }
    check_duplicate_keys(*doc, diags);
    check_duplicate_step_names(*doc, diags);

    Node merged;
    merged.kind = Node::Kind::Map;
    merged.where = doc->where;
    const Node* includes = doc->find("include");
    if (includes) {
        if (!includes->is_seq()) {
            diags.error(includes->where, "'include' must be a list of file names",
                        "write: include: [common/base.yaml]");
        } else {
            stack.push_back(fs::weakly_canonical(path));
            for (const auto& inc : includes->seq) {
                if (!inc.is_scalar() || inc.scalar.empty()) {
                    diags.error(inc.where, "an include entry must be a file name");
                    continue;
                }
                if (inc.scalar.find("${") != std::string::npos) {
                    diags.error(inc.where, "include paths cannot use variables",
                                "variables are resolved after all files are merged");
                    continue;
                }
                fs::path child = path.parent_path() / inc.scalar;
                fs::path canon = fs::weakly_canonical(child);
                auto loop = std::find(stack.begin(), stack.end(), canon);
                if (loop != stack.end()) {
                    std::string chain;
                    for (auto it = loop; it != stack.end(); ++it)
                        chain += it->filename().string() + " -> ";
                    diags.error(inc.where, "include cycle: " + chain + canon.filename().string(),
                                "a recipe cannot include itself, directly or through others");
                    continue;
                }
                if (!fs::exists(child)) {
                    diags.error(
                        inc.where, fmt::format("included file '{}' does not exist", inc.scalar),
                        fmt::format("paths are relative to {}", path.parent_path().empty()
                                                                    ? "."
                                                                    : path.parent_path().string()));
                    continue;
                }
                if (auto sub = load_recursive(child, stack, files, diags)) merge_into(merged, *sub);
            }
            stack.pop_back();
        }
    }
    Node own = *doc;
    own.map.erase(std::remove_if(own.map.begin(), own.map.end(),
                                 [](const auto& kv) { return kv.first.scalar == "include"; }),
                  own.map.end());
    merge_into(merged, own);
    return merged;
}

} // namespace

std::optional<Node> load_merged(const fs::path& path, std::vector<std::string>& files,
                                Diagnostics& diags) {
    std::vector<fs::path> stack;
    return load_recursive(path, stack, files, diags);
}

} // namespace ccbake::recipe
