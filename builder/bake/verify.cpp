#include "bake/verify.h"

#include "bake/content.h"
#include "bake/readonly_root.h"
#include "image/namespace.h"
#include "util/error.h"
#include "util/file.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sys/mount.h>
#include <unistd.h>

namespace fs = std::filesystem;
using nlohmann::json;

namespace ccbake::bake {

namespace {

struct Expected {
    std::string sha256;
    std::optional<std::vector<target::ContentEntry>> list; // when the list is beside
    fs::path list_path;
};

Expected read_manifest(const fs::path& path) {
    auto text = util::read_file(path);
    if (!text)
        throw UsageError(fmt::format("no manifest {}", path.string()),
                         "give the manifest the bake wrote beside the image with --manifest");
    json m = json::parse(*text, nullptr, false);
    if (m.is_discarded() || !m.is_object())
        throw UsageError(fmt::format("{} is not a ccbake manifest (not JSON)", path.string()));
    if (!m.contains("content") || !m["content"].contains("sha256") ||
        !m["content"]["sha256"].is_string())
        throw UsageError(fmt::format("{} records no content digest", path.string()),
                         "bake the image again with this version of ccbake");
    Expected e{m["content"]["sha256"].get<std::string>(), std::nullopt, {}};
    if (m["content"].contains("list") && m["content"]["list"].is_string()) {
        e.list_path = path.parent_path() / m["content"]["list"].get<std::string>();
        if (auto list = util::read_file(e.list_path)) e.list = target::parse_content(*list);
    }
    return e;
}

} // namespace

int verify(const VerifyOptions& o) {
    const fs::path subject = o.image.empty() ? o.rootfs : o.image;
    fs::path manifest = o.manifest;
    if (manifest.empty()) {
        if (o.image.empty())
            throw UsageError("verify --rootfs needs --manifest FILE",
                             "the manifest inside the root is excluded from its own digest: give "
                             "a copy, e.g. --manifest DIR/usr/share/ccbake/manifest.json");
        manifest = o.image;
        manifest += ".manifest.json";
    }
    Expected want = read_manifest(manifest);

    std::vector<target::ContentEntry> have;
    if (!o.image.empty()) {
        image::isolate_bake(); // mounts and loop devices die with this process
        ReadOnlyRoot root(o.image);
        have = baked_content(root.root());
    } else {
        have = baked_content(o.rootfs);
    }
    const std::string actual = target::content_digest(have);
    const bool match = actual == want.sha256;
    std::vector<target::ContentChange> changes;
    if (!match && want.list) changes = target::compare_content(*want.list, have);

    if (o.json) {
        json j = {{"subject", subject.string()}, {"manifest", manifest.string()},
                  {"expected", want.sha256},     {"actual", actual},
                  {"entries", have.size()},      {"match", match},
                  {"changes", json::array()}};
        for (const auto& c : changes)
            j["changes"].push_back({{"path", c.path}, {"what", c.what}});
        if (!match && !want.list) j["list"] = nullptr;
        std::cout << j.dump(2) << "\n";
    } else if (match) {
        std::cout << fmt::format("{}: matches {} (content sha256 {}, {} entries)\n",
                                 subject.string(), manifest.string(), actual, have.size());
    } else {
        std::cout << fmt::format("{}: DIFFERS from {}\n  expected content sha256 {}\n  actual   "
                                 "content sha256 {}\n",
                                 subject.string(), manifest.string(), want.sha256, actual);
        if (!want.list)
            std::cout << fmt::format("  (no content list {} beside the manifest: the paths that "
                                     "differ cannot be named)\n",
                                     want.list_path.empty() ? "named" : want.list_path.string());
        for (const auto& c : changes)
            std::cout << fmt::format("  {:<8} {}\n", c.what, c.path);
    }
    return match ? kExitOk : kExitFailed;
}

} // namespace ccbake::bake
