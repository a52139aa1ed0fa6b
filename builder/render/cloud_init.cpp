#include "render/cloud_init.h"

#include "render/cloud_init_assets.h"
#include "steps/step.h"
#include "util/strings.h"
#include "version.h"

#include <cctype>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

namespace ccbake::render {

namespace {

namespace fs = std::filesystem;
using steps::text;
using steps::texts;

constexpr const char* kFirstbootHelper = "/usr/lib/ccbake/ccbake-firstboot";

struct StagedFile {
    std::string path; // where cloud-init's write_files puts it
    std::string content;
    std::string permissions = "0644";
};

bool contains(const std::string& s, const char* what) {
    return s.find(what) != std::string::npos;
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// Seconds to wait for nvidia-persistenced: the guest_check step's persistenced_timeout, else 900.
int persistenced_timeout(const recipe::Recipe& r) {
    for (const auto& s : r.steps)
        if (s.kind == "guest_check" && s.spec.contains("persistenced_timeout") &&
            s.spec["persistenced_timeout"].is_number())
            return s.spec["persistenced_timeout"].get<int>();
    return 900;
}

// Arguments for `ccbake-firstboot check` derived from the recipe: where the quote generator,
// the quote verification sample and the PPCIe verifier's venv live in the image.
std::vector<std::string> check_arguments(const recipe::Recipe& r) {
    std::vector<std::string> args;
    auto parent = [](const std::string& path) { return fs::path(path).parent_path().string(); };
    for (const auto& s : r.steps) {
        if (s.kind == "guest_check") { // the checker's own tool paths win over guesses
            return {"--quote-dir", parent(text(s.spec, "tdx_attest")),
                    "--qvs-dir",   parent(text(s.spec, "quote_verify")),
                    "--venv",      parent(parent(text(s.spec, "ppcie_python")))};
        }
        std::string dir = text(s.spec, "dir");
        if (s.kind == "source_build" && contains(dir, "tdx-quote-generation-sample"))
            args = concat(args, {"--quote-dir", dir});
        if (s.kind == "source_build" && contains(dir, "QuoteVerificationSample"))
            args = concat(args, {"--qvs-dir", dir});
        if (s.kind == "python_venv") {
            for (const auto& i : texts(s.spec, "install"))
                if (contains(util::to_lower(i), "ppcie")) {
                    args = concat(args, {"--venv", text(s.spec, "venv")});
                    break;
                }
        }
    }
    return args;
}

// A host name label from the recipe name: lower case letters, digits and '-'.
std::string host_label(const std::string& name) {
    std::string out;
    for (char c : util::to_lower(name))
        out += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
    return out.empty() ? "ccbake" : out.substr(0, 63);
}

std::string comment_block(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines)
        out += l.empty() ? "#\n" : "# " + l + "\n";
    return out;
}

std::string header(const recipe::Recipe& r, const CloudInitOptions& o) {
    std::vector<std::string> lines = {
        fmt::format("Rendered by ccbake {} from recipe '{}' (sha256 {}), mode check.",
                    CCBAKE_VERSION, r.name, r.hash),
        "At first boot it waits (at most " + std::to_string(o.persistenced_timeout_s) +
            "s) until nvidia-persistenced is active before",
        "anything touches the GPU, then runs /usr/lib/ccbake/ccbake-check --json (or, in an image",
        "without it, the vendor's TDX, quote and PPCIe checks) and records the result in",
        "/var/lib/ccbake/firstboot-check.json; the log is /var/lib/ccbake/firstboot.log.",
        "It never reboots: in-guest reboot is unsupported on TDX.",
    };
    return "#cloud-config\n" + comment_block(lines);
}

void emit_argv(YAML::Emitter& e, const std::vector<std::string>& argv) {
    e << YAML::Flow << YAML::BeginSeq;
    for (const auto& a : argv)
        e << YAML::DoubleQuoted << a;
    e << YAML::EndSeq;
}

void emit_file(YAML::Emitter& e, const StagedFile& f) {
    e << YAML::BeginMap;
    e << YAML::Key << "path" << YAML::Value << f.path;
    e << YAML::Key << "owner" << YAML::Value << "root:root";
    e << YAML::Key << "permissions" << YAML::Value << YAML::SingleQuoted << f.permissions;
    // Literal blocks keep scripts readable; other text is double-quoted so it round-trips exactly.
    bool literal = !f.content.empty() && f.content.back() == '\n' &&
                   f.content.find('\t') == std::string::npos &&
                   f.content.find(" \n") == std::string::npos && f.content.front() != ' ' &&
                   f.content.find("\n\n\n") == std::string::npos;
    e << YAML::Key << "content" << YAML::Value;
    if (literal)
        e << YAML::Literal << f.content;
    else
        e << YAML::DoubleQuoted << f.content;
    e << YAML::EndMap;
}

} // namespace

CloudInitFiles render_cloud_init(const recipe::Recipe& r, const CloudInitOptions& options) {
    CloudInitOptions o = options;
    if (o.persistenced_timeout_s <= 0) o.persistenced_timeout_s = persistenced_timeout(r);

    nlohmann::json info = {{"recipe", r.name},
                           {"recipe_hash", r.hash},
                           {"mode", "check"},
                           {"ccbake", CCBAKE_VERSION},
                           {"steps", nlohmann::json::array()}};
    for (const auto& s : r.steps)
        info["steps"].push_back({{"name", s.name}, {"kind", s.kind}, {"hash", s.hash}});

    std::vector<StagedFile> files = {{kFirstbootHelper, kFirstbootScript, "0755"},
                                     {"/etc/ccbake/firstboot.json", info.dump(2) + "\n", "0644"}};

    YAML::Emitter e;
    e << YAML::BeginMap;
    e << YAML::Key << "write_files" << YAML::Value << YAML::BeginSeq;
    for (const auto& f : files)
        emit_file(e, f);
    e << YAML::EndSeq;
    e << YAML::Key << "runcmd" << YAML::Value << YAML::BeginSeq;
    emit_argv(e, {kFirstbootHelper, "wait-persistenced", std::to_string(o.persistenced_timeout_s)});
    std::vector<std::string> check{kFirstbootHelper, "check"};
    for (const auto& a : check_arguments(r))
        check.push_back(a);
    emit_argv(e, check);
    e << YAML::EndSeq;
    e << YAML::EndMap;

    CloudInitFiles out;
    out.user_data = header(r, o) + e.c_str() + "\n";
    out.meta_data = fmt::format("instance-id: ccbake-{}-check-{}\nlocal-hostname: {}\n",
                                host_label(r.name), r.hash.substr(0, 12), host_label(r.name));
    return out;
}

} // namespace ccbake::render
