#include "render/cloud_init.h"

#include "render/cloud_init_assets.h"
#include "render/cloud_init_boot.h"
#include "util/strings.h"
#include "version.h"

#include <cctype>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

namespace ccbake::render {

namespace {

// A host name label from the recipe name: lower case letters, digits and '-'.
std::string host_label(const std::string& name) {
    std::string out;
    for (char c : util::to_lower(name))
        out += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
    return out.empty() ? "ccbake" : out.substr(0, 63);
}

const char* mode_name(CloudInitMode m) {
    return m == CloudInitMode::Check ? "check" : "bake-at-boot";
}

std::string comment_block(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines)
        out += l.empty() ? "#\n" : "# " + l + "\n";
    return out;
}

std::string header(const recipe::Recipe& r, const CloudInitOptions& o, const BootCommands& boot) {
    std::vector<std::string> lines = {
        fmt::format("Rendered by ccbake {} from recipe '{}' (sha256 {}), mode {}.", CCBAKE_VERSION,
                    r.name, r.hash, mode_name(o.mode)),
        "At first boot it waits (at most " + std::to_string(o.persistenced_timeout_s) +
            "s) until nvidia-persistenced is active before",
        "anything touches the GPU, then runs /usr/lib/ccbake/ccbake-check --json (or, in an image",
        "without it, the vendor's TDX, quote and PPCIe checks) and records the result in",
        "/var/lib/ccbake/firstboot-check.json; the log is /var/lib/ccbake/firstboot.log.",
        "It never reboots: in-guest reboot is unsupported on TDX.",
    };
    if (o.mode == CloudInitMode::BakeAtBoot) {
        lines.push_back("");
        lines.push_back(
            "bake-at-boot: before the checks, the recipe's steps run as first-boot commands.");
        lines.push_back("What this mode cannot do that `ccbake bake` does offline:");
        for (const auto& l : bake_at_boot_limits())
            lines.push_back((util::starts_with(l, "  ") ? "  " : "  - ") + l);
        if (!boot.notes.empty()) lines.push_back("Differences for this recipe:");
        for (const auto& n : boot.notes)
            lines.push_back("  - " + n);
    }
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

const std::vector<std::string>& bake_at_boot_limits() {
    static const std::vector<std::string> limits = {
        "no preflight: the running guest is not checked for UEFI, Ubuntu 22.04 or the minimum "
        "kernel",
        "no verified-artifact cache: every artifact is downloaded again by the guest, which needs",
        "  network access to the artifact URLs (each download is still checked against its digest)",
        "no staged publish: the steps change the live system; a failure leaves it half-baked",
        "  (/var/lib/ccbake/firstboot.failed names the step; later steps are not run)",
        "no post-checks (grub.cfg root=UUID, systemd-analyze warnings as failures) and no",
        "  provenance manifest beside an output image",
        "a new kernel, driver or kernel command line takes effect only after a stop/start from the",
        "  console (in-guest reboot is unsupported on TDX), so the first checks see the old state",
        "it runs once per instance-id, with the guest's services running (no policy-rc.d)",
    };
    return limits;
}

CloudInitFiles render_cloud_init(const recipe::Recipe& r, const CloudInitOptions& options) {
    CloudInitOptions o = options;
    if (o.persistenced_timeout_s <= 0) o.persistenced_timeout_s = persistenced_timeout(r);
    BootCommands boot;
    if (o.mode == CloudInitMode::BakeAtBoot) boot = boot_commands(r);

    nlohmann::json info = {{"recipe", r.name},
                           {"recipe_hash", r.hash},
                           {"mode", mode_name(o.mode)},
                           {"ccbake", CCBAKE_VERSION},
                           {"steps", nlohmann::json::array()}};
    for (const auto& s : r.steps)
        info["steps"].push_back({{"name", s.name}, {"kind", s.kind}, {"hash", s.hash}});

    std::vector<StagedFile> files = {{kFirstbootHelper, kFirstbootScript, "0755"},
                                     {"/etc/ccbake/firstboot.json", info.dump(2) + "\n", "0644"}};
    files.insert(files.end(), boot.files.begin(), boot.files.end());

    YAML::Emitter e;
    e << YAML::BeginMap;
    e << YAML::Key << "write_files" << YAML::Value << YAML::BeginSeq;
    for (const auto& f : files)
        emit_file(e, f);
    e << YAML::EndSeq;
    e << YAML::Key << "runcmd" << YAML::Value << YAML::BeginSeq;
    for (const auto& argv : boot.runcmd)
        emit_argv(e, argv);
    emit_argv(e, {kFirstbootHelper, "wait-persistenced", std::to_string(o.persistenced_timeout_s)});
    std::vector<std::string> check{kFirstbootHelper, "check"};
    for (const auto& a : check_arguments(r))
        check.push_back(a);
    emit_argv(e, check);
    if (o.mode == CloudInitMode::BakeAtBoot) emit_argv(e, {kFirstbootHelper, "finish"});
    e << YAML::EndSeq;
    e << YAML::EndMap;

    CloudInitFiles out;
    out.user_data = header(r, o, boot) + e.c_str() + "\n";
    out.meta_data =
        fmt::format("instance-id: ccbake-{}-{}-{}\nlocal-hostname: {}\n", host_label(r.name),
                    mode_name(o.mode), r.hash.substr(0, 12), host_label(r.name));
    return out;
}

} // namespace ccbake::render
