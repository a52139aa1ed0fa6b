#include "plan/plan.h"

#include "plan/measured.h"
#include "steps/step.h"
#include "util/strings.h"

#include <fmt/format.h>

namespace ccbake::plan {

using nlohmann::json;

namespace {

std::vector<std::string> describe(const recipe::Step& s, const recipe::Recipe& r) {
    const auto* kind = steps::find_kind(s.kind);
    return kind && kind->describe ? kind->describe(s, r) : std::vector<std::string>{};
}

} // namespace

json to_json(const recipe::Recipe& r, const CacheProbe& probe) {
    json out;
    out["recipe"] = {
        {"name", r.name}, {"path", r.path.string()}, {"files", r.files}, {"hash", r.hash}};
    out["base"] = {{"os", r.base.os},
                   {"version", r.base.version},
                   {"firmware", r.base.firmware},
                   {"min_kernel", r.base.min_kernel},
                   {"disk_size", r.base.disk_size}};
    out["variables"] = r.variables;
    out["artifacts"] = json::array();
    for (const auto& a : r.artifacts) {
        json j = {{"name", a.name},
                  {"url", a.url},
                  {"mirrors", a.mirrors},
                  {"filename", a.filename},
                  {"md5", a.md5.empty() ? json() : json(a.md5)},
                  {"sha256", a.sha256.empty() ? json() : json(a.sha256)}};
        if (a.size) j["size"] = a.size;
        if (probe) j["cache"] = probe(a);
        out["artifacts"].push_back(j);
    }
    out["steps"] = json::array();
    for (size_t i = 0; i < r.steps.size(); ++i) {
        const auto& s = r.steps[i];
        const Impact impact = measured_impact(s);
        out["steps"].push_back(
            {{"index", i + 1},
             {"name", s.name},
             {"kind", s.kind},
             {"hash", s.hash},
             {"spec", s.spec},
             {"artifacts", s.artifacts},
             {"describe", describe(s, r)},
             {"measured", {{"registers", impact.registers}, {"why", impact.why}}}});
    }
    return out;
}

std::string to_text(const recipe::Recipe& r, const CacheProbe& probe, bool detailed) {
    std::string out;
    out += fmt::format("recipe   {} ({})\n", r.name, r.path.string());
    if (r.files.size() > 1) {
        std::vector<std::string> included(r.files.begin() + 1, r.files.end());
        out += fmt::format("includes {}\n", util::join(included, ", "));
    }
    out += fmt::format("hash     {}\n", r.hash);
    out += fmt::format("base     {} {}, {}, kernel >= {}{}\n\n", r.base.os, r.base.version,
                       r.base.firmware, r.base.min_kernel,
                       r.base.disk_size ? ", disk grown to " + util::human_bytes(r.base.disk_size)
                                        : "");
    if (detailed && !r.variables.empty()) {
        out += fmt::format("variables ({})\n", r.variables.size());
        for (const auto& [name, value] : r.variables)
            out += fmt::format("  {:<22} {}\n", name, value);
        out += "\n";
    }
    out += fmt::format("artifacts ({})\n", r.artifacts.size());
    for (const auto& a : r.artifacts) {
        std::string digest = !a.sha256.empty()
                                 ? "sha256 " + (detailed ? a.sha256 : a.sha256.substr(0, 16) + "…")
                             : !a.md5.empty() ? "md5 " + a.md5
                                              : "no published checksum (pinned by `ccbake lock`)";
        std::string state = probe ? probe(a) : "";
        out += fmt::format("  {:<22} {}\n  {:<22} {}{}\n", a.name, a.url, "", digest,
                           state.empty() ? "" : "  [" + state + "]");
        if (detailed)
            for (const auto& m : a.mirrors)
                out += fmt::format("  {:<22} mirror {}\n", "", m);
    }
    out += fmt::format("\nsteps ({})\n", r.steps.size());
    for (size_t i = 0; i < r.steps.size(); ++i) {
        const auto& s = r.steps[i];
        out += fmt::format("  {:>2}. {:<17} {:<28} {}\n", i + 1, s.kind, s.name,
                           detailed ? s.hash : s.hash.substr(0, 12));
        for (const auto& line : describe(s, r))
            out += fmt::format("        {}\n", line);
        out += fmt::format("        measured: {}\n", impact_line(measured_impact(s)));
    }
    return out;
}

} // namespace ccbake::plan
