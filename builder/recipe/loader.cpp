// load_recipe: merge includes, substitute variables, type-check against the schema tables
// (the steps against the StepSchemas the caller passes), then run the cross-field checks of
// each step kind and compute content hashes.
#include "recipe/merge.h"
#include "recipe/recipe.h"
#include "recipe/typecheck.h"
#include "recipe/variables.h"
#include "util/digest.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <set>

namespace ccbake::recipe {

using nlohmann::json;

std::vector<std::string> Artifact::urls() const {
    std::vector<std::string> out{url};
    out.insert(out.end(), mirrors.begin(), mirrors.end());
    return out;
}

const Artifact* Recipe::artifact(const std::string& name) const {
    for (const auto& a : artifacts)
        if (a.name == name) return &a;
    return nullptr;
}

const StepSchema* StepSchemas::find(const std::string& kind) const {
    for (const auto& k : kinds)
        if (k.kind == kind) return &k;
    return nullptr;
}

namespace {

std::string last_url_part(const std::string& url) {
    std::string path = url.substr(0, url.find_first_of("?#"));
    auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

void read_artifacts(const Node& doc, TypeChecker& tc, Recipe& r) {
    const Node* arts = doc.find("artifacts");
    if (!arts || arts->is_null()) return;
    if (!arts->is_map()) {
        tc.diags.error(arts->where, "'artifacts' must be a mapping of NAME: {url: ..., md5: ...}");
        return;
    }
    const Field* schema = nullptr;
    for (const auto& f : top_level_fields())
        if (f.name == "artifacts") schema = &f;
    for (const auto& [k, v] : arts->map) {
        if (!v.is_map()) {
            tc.diags.error(
                v.where, fmt::format("artifact '{}' must be a mapping with at least 'url', not {}",
                                     k.scalar, v.kind_name()));
            continue;
        }
        json spec = tc.check_map(v, schema->fields, fmt::format("artifact '{}'", k.scalar));
        Artifact a;
        a.name = k.scalar;
        a.where = k.where;
        a.url = spec.value("url", "");
        a.md5 = spec.value("md5", "");
        a.sha256 = spec.value("sha256", "");
        a.size = spec.value("size", std::uint64_t{0});
        if (spec.contains("mirrors")) a.mirrors = spec["mirrors"].get<std::vector<std::string>>();
        if (const Node* mirrors = v.find("mirrors"); mirrors && mirrors->is_seq())
            for (const auto& m : mirrors->seq) {
                Field url_field{.name = "mirrors", .type = FieldType::Url};
                tc.check_value(m, url_field, fmt::format("artifact '{}'", k.scalar));
            }
        a.filename = spec.value("filename", last_url_part(a.url));
        if (a.filename.empty() || a.filename.find('/') != std::string::npos || a.filename == ".." ||
            a.filename == ".")
            if (!a.url.empty())
                tc.diags.error(v.where,
                               fmt::format("artifact '{}' needs a 'filename': its URL does "
                                           "not end in one",
                                           k.scalar));
        r.artifacts.push_back(std::move(a));
    }
}

// Per step of the recipe, what its cross-field checks need.
struct ReadStep {
    const StepSchema* kind;
    const Node* body;
    bool well_typed; // its fields passed the type checker
};

void read_steps(const Node& doc, const StepSchemas& kinds, TypeChecker& tc, Recipe& r,
                std::vector<ReadStep>& read) {
    const Node* steps = doc.find("steps");
    if (!steps) return;
    if (!steps->is_seq()) {
        tc.diags.error(steps->where,
                       fmt::format("'steps' must be a list, not {}", steps->kind_name()),
                       "write each step as '- KIND: {...}'");
        return;
    }
    std::vector<std::string> kind_names;
    for (const auto& k : kinds.kinds)
        kind_names.push_back(k.kind);
    std::map<std::string, int> counters;
    std::set<std::string> names;
    for (const auto& item : steps->seq) {
        if (!item.is_map() || item.map.size() != 1) {
            tc.diags.error(
                item.where,
                item.is_map()
                    ? fmt::format("a step has exactly one kind, this one has {} keys",
                                  item.map.size())
                    : fmt::format("a step must be a mapping like '- apt_install: {{...}}', "
                                  "not {}",
                                  item.kind_name()),
                item.is_map() ? "did you forget a '- ' before the next step, or indent "
                                "its fields under the kind?"
                              : "");
            continue;
        }
        const auto& [key, body] = item.map.front();
        const StepSchema* kind = kinds.find(key.scalar);
        if (!kind) {
            std::string hint = util::closest(key.scalar, kind_names);
            tc.diags.error(key.where, fmt::format("unknown step kind '{}'", key.scalar),
                           hint.empty() ? "step kinds: " + util::join(kind_names, ", ")
                                        : fmt::format("did you mean '{}'?", hint));
            continue;
        }
        if (!body.is_map() && !body.is_null()) {
            tc.diags.error(body.where,
                           fmt::format("the fields of step '{}' must be a mapping, not {}",
                                       key.scalar, body.kind_name()));
            continue;
        }
        const size_t problems_before = tc.diags.size();
        Step s = check_step(tc, *kind, body, key.where);
        int n = ++counters[kind->kind];
        s.name = s.spec.value("name", fmt::format("{}-{}", kind->kind, n));
        if (!names.insert(s.name).second && !s.spec.contains("name"))
            s.name = fmt::format("{}-{}", kind->kind, n); // generated names never collide
        r.steps.push_back(std::move(s));
        read.push_back({kind, &body, tc.diags.size() == problems_before});
    }
}

// What an artifact is: its digests when the recipe pins them (so moving it to another server
// or mirror changes no step hash), else its URL.
json artifact_identity(const Artifact& a) {
    if (a.md5.empty() && a.sha256.empty()) return {{"name", a.name}, {"url", a.url}};
    return {{"name", a.name}, {"md5", a.md5}, {"sha256", a.sha256}, {"size", a.size}};
}

void apply_pins(Recipe& r, const std::map<std::string, ArtifactPin>& pins) {
    for (auto& a : r.artifacts) {
        auto it = pins.find(a.name);
        if (it == pins.end() || it->second.url != a.url) continue;
        if (a.sha256.empty()) a.sha256 = it->second.sha256;
        if (!a.size) a.size = it->second.size;
    }
}

void compute_hashes(Recipe& r) {
    json all_steps = json::array();
    for (auto& s : r.steps) {
        json spec = s.spec;
        spec.erase("name");
        spec.erase("timeout");
        json doc = {{"kind", s.kind}, {"spec", spec}, {"artifacts", json::array()}};
        for (const auto& name : s.artifacts)
            if (const auto* a = r.artifact(name)) doc["artifacts"].push_back(artifact_identity(*a));
        s.hash = util::sha256_hex(doc.dump());
        all_steps.push_back(s.hash);
    }
    json whole = {
        {"name", r.name},
        {"base", {r.base.os, r.base.version, r.base.firmware, r.base.min_kernel, r.base.disk_size}},
        {"steps", all_steps}};
    for (const auto& a : r.artifacts)
        whole["artifacts"].push_back(artifact_identity(a));
    r.hash = util::sha256_hex(whole.dump());
}

} // namespace

Recipe load_recipe(const std::filesystem::path& path, const StepSchemas& kinds,
                   const LoadOptions& options, Diagnostics& diags) {
    Recipe r;
    r.path = path;
    std::optional<Node> doc = load_merged(path, r.files, diags);
    if (!doc) return r;

    r.variables = collect_variables(*doc, options.overrides, diags);
    substitute_all(*doc, r.variables, diags);

    TypeChecker tc{diags, {}};
    std::vector<Field> top; // artifacts and steps have their own readers below
    for (const auto& f : top_level_fields()) {
        Field copy = f;
        if (f.name == "artifacts" || f.name == "steps") copy.type = FieldType::Any;
        if (f.name == "variables" || f.name == "include") copy.type = FieldType::Any;
        top.push_back(copy);
    }
    json head = tc.check_map(*doc, top, "the recipe");
    r.name = head.value("name", "");
    r.description = head.value("description", "");
    if (head.contains("base") && head["base"].is_object()) {
        const json& b = head["base"];
        r.base.os = b.value("os", r.base.os);
        r.base.version = b.value("version", r.base.version);
        r.base.firmware = b.value("firmware", r.base.firmware);
        r.base.min_kernel = b.value("min_kernel", r.base.min_kernel);
        if (b.contains("disk_size") && b["disk_size"].is_number_unsigned())
            r.base.disk_size = b["disk_size"].get<std::uint64_t>();
    }
    read_artifacts(*doc, tc, r);
    std::vector<ReadStep> read; // one per step of r.steps
    read_steps(*doc, kinds, tc, r, read);
    if (const Node* steps = doc->find("steps"); steps && steps->is_seq() && steps->seq.empty())
        diags.error(steps->where, "the recipe has no steps",
                    "add at least one step under 'steps:'");

    for (const auto& ref : tc.artifact_refs) {
        if (r.artifact(ref.name)) continue;
        std::vector<std::string> names;
        for (const auto& a : r.artifacts)
            names.push_back(a.name);
        std::string hint = util::closest(ref.name, names);
        diags.error(ref.where, fmt::format("no artifact named '{}'", ref.name),
                    hint.empty() ? (names.empty() ? "declare it under 'artifacts:'"
                                                  : "artifacts: " + util::join(names, ", "))
                                 : fmt::format("did you mean '{}'?", hint));
    }
    for (size_t i = 0; i < r.steps.size(); ++i) {
        const StepSchema* kind = read[i].kind;
        // A kind's own checks read its fields as the schema types them; a step whose fields
        // did not type-check has its errors already, and a field may be missing.
        if (!kind->check || !read[i].well_typed) continue;
        const Node* body = read[i].body;
        auto field_loc = [&](const std::string& name) {
            const Node* f = body->is_map() ? body->find(name) : nullptr;
            return f ? f->where : r.steps[i].where;
        };
        kind->check(r.steps[i], r, field_loc, diags);
    }
    apply_pins(r, options.pins);
    compute_hashes(r);
    return r;
}

} // namespace ccbake::recipe
