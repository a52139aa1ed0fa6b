#include "bake/sbom.h"

#include "archive/deb.h"
#include "target/in_root.h"
#include "util/strings.h"
#include "version.h"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>
#include <map>
#include <set>

using nlohmann::json;
namespace fs = std::filesystem;

namespace ccbake::bake {
namespace {

// SPDX identifiers allow letters, digits, '.' and '-' after "SPDXRef-"; anything else becomes
// '-', and a clash (g++ and g-- would both be "g--") gets a counter.
class SpdxIds {
  public:
    std::string make(const std::string& kind, const std::string& name) {
        std::string id = "SPDXRef-" + kind + "-";
        for (char c : name)
            id += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ? c : '-';
        std::string unique = id;
        for (int n = 2; !used_.insert(unique).second; ++n)
            unique = fmt::format("{}-{}", id, n);
        return unique;
    }

  private:
    std::set<std::string> used_;
};

// Percent-encoding of a purl component: unreserved characters stay, the rest is %XX.
std::string purl_escape(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~')
            out += static_cast<char>(c);
        else
            out += fmt::format("%{:02X}", c);
    }
    return out;
}

json purl_ref(const std::string& purl) {
    return json::array({{{"referenceCategory", "PACKAGE-MANAGER"},
                         {"referenceType", "purl"},
                         {"referenceLocator", purl}}});
}

// Fields every package carries: nothing is asserted about licenses the bake did not read.
json package(const std::string& id, const std::string& name) {
    return {{"SPDXID", id},
            {"name", name},
            {"downloadLocation", "NOASSERTION"},
            {"filesAnalyzed", false},
            {"licenseConcluded", "NOASSERTION"},
            {"licenseDeclared", "NOASSERTION"},
            {"copyrightText", "NOASSERTION"}};
}

json relationship(const std::string& from, const char* type, const std::string& to) {
    return {{"spdxElementId", from}, {"relationshipType", type}, {"relatedSpdxElement", to}};
}

// "site-packages/NAME.dist-info/METADATA" directly below VENV/lib/pythonX.Y/.
bool is_venv_metadata(const std::string& path, const std::string& venv) {
    if (!util::starts_with(path, venv + "/lib/python")) return false;
    auto parts = util::split(path.substr(venv.size() + 1), '/');
    return parts.size() == 5 && parts[2] == "site-packages" && parts[3].size() > 10 &&
           parts[3].ends_with(".dist-info") && parts[4] == "METADATA";
}

} // namespace

std::vector<PythonDist> venv_distributions(const fs::path& root,
                                           const std::vector<target::ContentEntry>& content) {
    std::vector<std::string> venvs;
    for (const auto& e : content)
        if (e.type == 'f' && e.path.ends_with("/pyvenv.cfg"))
            venvs.push_back(e.path.substr(0, e.path.size() - std::string("/pyvenv.cfg").size()));
    std::vector<PythonDist> out;
    for (const auto& venv : venvs)
        for (const auto& e : content) {
            if (e.type != 'f' || !is_venv_metadata(e.path, venv)) continue;
            auto text = target::read_in_root(root, e.path);
            if (!text) continue;
            // The metadata's header ends at the first empty line; the description follows.
            auto header = archive::parse_control(text->substr(0, text->find("\n\n")));
            if (header["Name"].empty()) continue;
            out.push_back({venv, header["Name"], header["Version"]});
        }
    std::sort(out.begin(), out.end(), [](const PythonDist& a, const PythonDist& b) {
        return a.venv != b.venv ? a.venv < b.venv : a.name < b.name;
    });
    return out;
}

json build_sbom(const ManifestInput& in, const std::vector<PythonDist>& dists) {
    const recipe::Recipe& r = in.recipe;
    SpdxIds ids;
    json packages = json::array();
    json relations = json::array();
    const std::string image_id = ids.make("Image", r.name);

    json image = package(image_id, r.name);
    image["primaryPackagePurpose"] = "OPERATING_SYSTEM";
    image["comment"] = fmt::format(
        "{} {} image baked by ccbake from recipe {} (hash {}); content sha256 {} "
        "(checked by `ccbake verify`)",
        r.base.os, r.base.version, r.path.filename().string(), r.hash, in.content.sha256);
    packages.push_back(image);
    relations.push_back(relationship("SPDXRef-DOCUMENT", "DESCRIBES", image_id));

    json base = package(ids.make("BaseImage", in.base.name), in.base.name);
    base["comment"] = fmt::format("the {} this image was baked from ({})", in.base.kind, in.os);
    if (!in.base.sha256.empty())
        base["checksums"] =
            json::array({{{"algorithm", "SHA256"}, {"checksumValue", in.base.sha256}}});
    relations.push_back(relationship(image_id, "DESCENDANT_OF", base["SPDXID"]));
    packages.push_back(base);

    for (const auto& a : r.artifacts) {
        auto it = in.artifacts.find(a.name);
        json p = package(ids.make("Artifact", a.name), a.name);
        p["downloadLocation"] = a.url;
        p["packageFileName"] = a.filename;
        p["primaryPackagePurpose"] = "INSTALL";
        if (it != in.artifacts.end()) {
            p["checksums"] =
                json::array({{{"algorithm", "MD5"}, {"checksumValue", it->second.md5}},
                             {{"algorithm", "SHA256"}, {"checksumValue", it->second.sha256}}});
            p["comment"] = fmt::format("recipe artifact {}, {} bytes, verified by md5 and sha256",
                                       a.name, it->second.size);
        }
        relations.push_back(relationship(image_id, "GENERATED_FROM", p["SPDXID"]));
        packages.push_back(p);
    }

    for (const auto& d : in.packages) {
        json p = package(ids.make("deb", d.name + "-" + d.architecture), d.name);
        p["versionInfo"] = d.version;
        p["sourceInfo"] = fmt::format("built from the Debian source package {}",
                                      d.source.empty() ? d.name : d.source);
        std::string purl =
            fmt::format("pkg:deb/{}/{}@{}?arch={}", purl_escape(r.base.os), purl_escape(d.name),
                        purl_escape(d.version), purl_escape(d.architecture));
        if (!d.source.empty()) purl += "&upstream=" + purl_escape(d.source);
        p["externalRefs"] = purl_ref(purl);
        relations.push_back(relationship(image_id, "CONTAINS", p["SPDXID"]));
        packages.push_back(p);
    }

    for (const auto& d : dists) {
        json p = package(ids.make("pypi", d.name + "-" + d.version), d.name);
        if (!d.version.empty()) p["versionInfo"] = d.version;
        p["comment"] = "installed in the venv " + d.venv;
        // purl's pypi names are lower case with '-' for '_' (PEP 503 normalisation).
        std::string name = util::to_lower(d.name);
        std::replace(name.begin(), name.end(), '_', '-');
        p["externalRefs"] =
            purl_ref(fmt::format("pkg:pypi/{}@{}", purl_escape(name), purl_escape(d.version)));
        relations.push_back(relationship(image_id, "CONTAINS", p["SPDXID"]));
        packages.push_back(p);
    }

    return {{"spdxVersion", "SPDX-2.3"},
            {"dataLicense", "CC0-1.0"},
            {"SPDXID", "SPDXRef-DOCUMENT"},
            {"name", r.name + " image"},
            {"documentNamespace",
             fmt::format("https://ccbake.invalid/spdxdocs/{}-{}", purl_escape(r.name),
                         in.content.sha256.empty() ? r.hash : in.content.sha256)},
            {"creationInfo",
             {{"created", creation_time()},
              {"creators", json::array({std::string("Tool: ccbake-") + CCBAKE_VERSION})}}},
            {"packages", packages},
            {"relationships", relations}};
}

fs::path sbom_path_beside(const fs::path& output) {
    fs::path p = output;
    p += ".spdx.json";
    return p;
}

} // namespace ccbake::bake
