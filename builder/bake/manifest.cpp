#include "bake/manifest.h"

#include "bake/content.h"
#include "bake/sbom.h"
#include "util/error.h"
#include "version.h"

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fmt/format.h>

using nlohmann::json;

namespace ccbake::bake {

std::string creation_time() {
    std::time_t t = std::time(nullptr);
    if (const char* sde = std::getenv("SOURCE_DATE_EPOCH"); sde && *sde) {
        char* end = nullptr;
        long long v = std::strtoll(sde, &end, 10);
        if (*end != '\0' || v < 0)
            throw UsageError(
                fmt::format("SOURCE_DATE_EPOCH='{}' is not a number of seconds since 1970", sde),
                "set it to e.g. $(git log -1 --format=%ct), or unset it");
        t = static_cast<std::time_t>(v);
    }
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

json build_manifest(const ManifestInput& in) {
    const recipe::Recipe& r = in.recipe;
    json artifacts = json::array();
    for (const auto& a : r.artifacts) {
        json e = {{"name", a.name}, {"url", a.url}, {"filename", a.filename}};
        if (auto it = in.artifacts.find(a.name); it != in.artifacts.end()) {
            e["md5"] = it->second.md5;
            e["sha256"] = it->second.sha256;
            e["size"] = it->second.size;
        } else {
            e["md5"] = a.md5;
            e["sha256"] = a.sha256;
            e["size"] = a.size;
        }
        artifacts.push_back(e);
    }
    json steps = json::array();
    for (const auto& s : in.steps)
        steps.push_back({{"name", s.name},
                         {"kind", s.kind},
                         {"hash", s.hash},
                         {"status", s.applied ? "applied" : "already applied"},
                         {"changes", s.changes}});
    json base = {
        {"kind", in.base.kind}, {"name", in.base.name}, {"os", in.os}, {"kernel", in.kernel}};
    if (in.base.kind != "rootfs") {
        base["sha256"] = in.base.sha256;
        base["size"] = in.base.size;
    }
    json out = {
        {"format", 1},
        {"created", creation_time()},
        {"ccbake_version", CCBAKE_VERSION},
        {"recipe",
         {{"name", r.name},
          {"hash", r.hash},
          {"file", r.path.filename().string()},
          {"base",
           {{"os", r.base.os},
            {"version", r.base.version},
            {"firmware", r.base.firmware},
            {"min_kernel", r.base.min_kernel},
            {"disk_size", r.base.disk_size}}},
          {"variables", r.variables}}},
        {"base_image", base},
        {"artifacts", artifacts},
        {"steps", steps},
        {"output_format", in.output_format},
        {"disk", {{"input_size", in.disk.input_size}, {"size", in.disk.size}}},
    };
    out["packages"] = json::array();
    for (const auto& p : in.packages) {
        json e = {{"name", p.name}, {"version", p.version}, {"architecture", p.architecture}};
        if (!p.source.empty()) e["source"] = p.source;
        out["packages"].push_back(e);
    }
    if (!in.content.sha256.empty()) {
        out["content"] = {{"sha256", in.content.sha256},
                          {"entries", in.content.files},
                          {"covers", content_covers()},
                          {"excluded", content_excluded()},
                          {"normalised", in.content.normalised}};
        if (!in.content.list.empty()) out["content"]["list"] = in.content.list;
    }
    if (!in.sbom_sha256.empty()) out["sbom"] = {{"path", kSbomPath}, {"sha256", in.sbom_sha256}};
    if (!in.measurements.is_null()) out["measurements"] = in.measurements;
    return out;
}

} // namespace ccbake::bake
