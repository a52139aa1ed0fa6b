// modprobe: a file under /etc/modprobe.d (softdeps, blacklists, options) and, optionally,
// modules loaded at boot through /etc/modules-load.d.
#include "steps/context.h"
#include "steps/kinds.h"
#include "target/files.h"
#include "target/kernels.h"
#include "util/strings.h"

#include <algorithm>
#include <fmt/format.h>

namespace ccbake::steps {

using recipe::FieldType;

namespace {

std::string render_modprobe(const nlohmann::json& spec) {
    std::string out = "# Written by ccbake from the image's recipe.\n";
    for (const auto& sd : spec["softdeps"]) {
        out += "softdep " + text(sd, "module");
        if (!texts(sd, "pre").empty()) out += " pre: " + util::join(texts(sd, "pre"), " ");
        if (!texts(sd, "post").empty()) out += " post: " + util::join(texts(sd, "post"), " ");
        out += "\n";
    }
    for (const auto& m : texts(spec, "blacklist"))
        out += "blacklist " + m + "\n";
    for (const auto& [m, o] : spec["options"].items())
        out += "options " + m + " " + o.get<std::string>() + "\n";
    return out;
}

// Installed kernels (target/kernels.h) that have an initramfs (/boot/initrd.img-VERSION).
std::vector<std::string> kernels_with_initramfs(const std::filesystem::path& root) {
    std::vector<std::string> out;
    for (const auto& k : target::installed_kernels(root))
        if (target::exists(root, "/boot/initrd.img-" + k)) out.push_back(k);
    return out;
}

StepResult apply_modprobe(StepContext& ctx, const recipe::Step& s) {
    const auto root = ctx.target.root();
    const std::string file = text(s.spec, "file");
    std::vector<std::string> changes;
    target::WantedFile conf;
    conf.content = render_modprobe(s.spec);
    changes = target::ensure_file(root, "/etc/modprobe.d/" + file, conf);
    if (!texts(s.spec, "load").empty()) {
        target::WantedFile load;
        load.content = "# Written by ccbake: modules loaded at boot.\n" +
                       util::join(texts(s.spec, "load"), "\n") + "\n";
        auto more = target::ensure_file(root, "/etc/modules-load.d/" + file, load);
        changes.insert(changes.end(), more.begin(), more.end());
    }
    // The initramfs carries its own copy of modprobe.d: refresh it, but only when a file changed.
    std::error_code ec;
    if (changes.empty() || !target::exists(root, "/usr/sbin/update-initramfs")) return {changes};
    for (const auto& k : kernels_with_initramfs(root)) {
        ctx.progress("update-initramfs -u -k " + k);
        ctx.run_or_fail({"update-initramfs", "-u", "-k", k},
                        "update-initramfs failed for kernel " + k);
        changes.push_back("update-initramfs -u -k " + k);
    }
    return {changes};
}

} // namespace

const StepKind& modprobe_kind() {
    static const StepKind kind{
        .name = "modprobe",
        .summary = "Write a modprobe.d configuration file (softdeps, blacklists, options).",
        .details = "The file `/etc/modprobe.d/FILE` holds one `softdep MODULE pre: ... post: ...` "
                   "line per softdep, `blacklist MODULE` lines and `options MODULE ...` lines. "
                   "`load` lists modules written to `/etc/modules-load.d/FILE`. When a file "
                   "changed, the initramfs of every kernel that has one is refreshed "
                   "(`update-initramfs -u -k VERSION`), so early boot sees the same rules.",
        .fields =
            {
                {.name = "file",
                 .required = true,
                 .help = "File name under /etc/modprobe.d, ending in .conf."},
                {.name = "softdeps",
                 .type = FieldType::ObjectList,
                 .default_value = nlohmann::json::array(),
                 .help = "Soft dependencies.",
                 .fields =
                     {
                         {.name = "module",
                          .required = true,
                          .help = "Module the dependency is for."},
                         {.name = "pre",
                          .type = FieldType::StringList,
                          .help = "Modules loaded before it."},
                         {.name = "post",
                          .type = FieldType::StringList,
                          .help = "Modules loaded after it."},
                     }},
                {.name = "blacklist",
                 .type = FieldType::StringList,
                 .default_value = nlohmann::json::array(),
                 .help = "Modules never auto-loaded."},
                {.name = "options",
                 .type = FieldType::StringMap,
                 .default_value = nlohmann::json::object(),
                 .help = "module: option string."},
                {.name = "load",
                 .type = FieldType::StringList,
                 .default_value = nlohmann::json::array(),
                 .help = "Modules loaded at boot."},
            },
        .example = "modprobe:\n  file: nvidia-lkca.conf\n  softdeps:\n    - module: nvidia\n"
                   "      pre: [ecdsa_generic, ecdh]\n",
        .check =
            [](const recipe::Step& s, const recipe::Recipe& r, const FieldLoc& loc,
               recipe::Diagnostics& d) {
                refuse_same_target(r, s, loc, "file", d, [](const recipe::Step& t) {
                    return std::vector<std::string>{"/etc/modprobe.d/" + text(t.spec, "file")};
                });
                std::string file = text(s.spec, "file");
                if (file.find('/') != std::string::npos || file.size() < 6 ||
                    file.substr(file.size() - 5) != ".conf")
                    d.error(loc("file"), "'file' must be a file name ending in .conf",
                            "modprobe reads only /etc/modprobe.d/*.conf");
                auto check_name = [&](const std::string& m, const char* field) {
                    if (m.empty() || m.find_first_of(" \t/") != std::string::npos)
                        d.error(loc(field), fmt::format("'{}' is not a module name", m));
                };
                for (const auto& sd : s.spec["softdeps"]) {
                    check_name(text(sd, "module"), "softdeps");
                    for (const auto& m : texts(sd, "pre"))
                        check_name(m, "softdeps");
                    for (const auto& m : texts(sd, "post"))
                        check_name(m, "softdeps");
                }
                for (const auto& m : texts(s.spec, "blacklist"))
                    check_name(m, "blacklist");
                for (const auto& m : texts(s.spec, "load"))
                    check_name(m, "load");
            },
        .describe =
            [](const recipe::Step& s, const recipe::Recipe&) {
                std::vector<std::string> out;
                std::string f = "/etc/modprobe.d/" + text(s.spec, "file") + ": ";
                for (const auto& sd : s.spec["softdeps"]) {
                    std::string line = "softdep " + text(sd, "module");
                    if (!texts(sd, "pre").empty())
                        line += " pre: " + util::join(texts(sd, "pre"), " ");
                    if (!texts(sd, "post").empty())
                        line += " post: " + util::join(texts(sd, "post"), " ");
                    out.push_back(f + line);
                }
                for (const auto& m : texts(s.spec, "blacklist"))
                    out.push_back(f + "blacklist " + m);
                for (const auto& [m, o] : s.spec["options"].items())
                    out.push_back(f + "options " + m + " " + o.get<std::string>());
                if (!texts(s.spec, "load").empty())
                    out.push_back("load at boot: " + util::join(texts(s.spec, "load"), " "));
                return out;
            },
        .apply = apply_modprobe,
    };
    return kind;
}

} // namespace ccbake::steps
