#include "bake/postcheck.h"

#include "bake/preflight.h"
#include "config/grub_defaults.h"
#include "target/in_root.h"
#include "util/error.h"
#include "util/strings.h"

#include <algorithm>
#include <fmt/format.h>
#include <fstream>

namespace fs = std::filesystem;

namespace ccbake::bake {

namespace {

// A root= that names a file system or partition by identity must name this disk's root.
void check_root_names(const std::string& cfg_inside, const std::string& text,
                      const std::vector<std::string>& names, std::vector<std::string>& problems) {
    if (names.empty()) return;
    for (const auto& e : config::grub_linux_entries(text))
        for (const auto& a : e.args) {
            if (!util::starts_with(a, "root=")) continue;
            std::string v = a.substr(5);
            bool by_id = util::starts_with(v, "UUID=") || util::starts_with(v, "PARTUUID=") ||
                         util::starts_with(v, "LABEL=");
            std::string norm =
                util::starts_with(v, "PARTUUID=") ? "PARTUUID=" + util::to_lower(v.substr(9)) : v;
            if (by_id && std::find(names.begin(), names.end(), norm) == names.end())
                problems.push_back(
                    fmt::format("{}:{}: root={} names no file system of this disk (its root "
                                "is {})",
                                cfg_inside, e.line, v, util::join(names, ", ")));
        }
}

void check_grub_cfgs(const fs::path& root, const std::vector<std::string>& root_names,
                     std::vector<std::string>& problems) {
    std::vector<fs::path> cfgs = {target::resolve_in_root(root, "/boot/grub/grub.cfg", true)};
    std::error_code ec;
    for (fs::recursive_directory_iterator
             it(target::resolve_in_root(root, "/boot/efi/EFI", true), ec),
         end;
         !ec && it != end; it.increment(ec))
        if (it->path().filename() == "grub.cfg" && !it->is_symlink()) cfgs.push_back(it->path());
    for (const auto& cfg : cfgs) {
        if (cfg == cfgs.front()) {
            std::ifstream whole(cfg);
            std::string text((std::istreambuf_iterator<char>(whole)), {});
            check_root_names("/boot/grub/grub.cfg", text, root_names, problems);
        }
        std::ifstream in(cfg);
        std::string line;
        int n = 0;
        while (std::getline(in, line)) {
            ++n;
            if (line.find("/dev/loop") != std::string::npos ||
                line.find("/dev/ccbake-") != std::string::npos) {
                problems.push_back(
                    fmt::format("{}:{} names the bake's loop device ({}); the image would not boot "
                                "elsewhere",
                                fs::path("/" + fs::relative(cfg, root).string()).string(), n,
                                util::trim(line)));
                break;
            }
        }
    }
}

void check_machine_id(const fs::path& root, std::vector<std::string>& problems) {
    std::string id = util::trim(target::read_in_root(root, "/etc/machine-id").value_or(""));
    if (!id.empty())
        problems.push_back(
            fmt::format("/etc/machine-id is set ({}); clones of the image would share it — a step "
                        "must leave it empty",
                        id));
}

void check_helpers(const fs::path& root, const PostCheckOptions& options,
                   std::vector<std::string>& problems) {
    if (target::read_in_root(root, "/usr/sbin/policy-rc.d")
            .value_or("")
            .find("Written by ccbake") != std::string::npos)
        problems.push_back("ccbake's /usr/sbin/policy-rc.d is still in the image");
    for (const char* dir : {"etc", "usr/sbin"}) {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(
                 target::resolve_in_root(root, std::string("/") + dir, true), ec))
            if (e.path().filename().string().ends_with(".ccbake-orig"))
                problems.push_back(fmt::format("a stashed file is left: /{}/{}", dir,
                                               e.path().filename().string()));
    }
    std::ifstream mi("/proc/self/mountinfo");
    std::string line;
    const std::string prefix = root.string();
    while (std::getline(mi, line)) {
        auto f = util::split(line, ' ');
        if (f.size() < 5) continue;
        fs::path mp = f[4];
        bool under = util::starts_with(mp.string(), prefix + "/");
        bool own = std::find(options.own_mounts.begin(), options.own_mounts.end(), mp) !=
                   options.own_mounts.end();
        if (under && !own)
            problems.push_back(
                fmt::format("something is still mounted in the image: {}", mp.string()));
    }
}

} // namespace

std::vector<std::string> ssh_host_keys(const fs::path& root) {
    std::vector<std::string> keys;
    std::error_code ec;
    for (const auto& e :
         fs::directory_iterator(target::resolve_in_root(root, "/etc/ssh", true), ec)) {
        std::string name = e.path().filename().string();
        if (util::starts_with(name, "ssh_host_") &&
            (name.ends_with("_key") || name.ends_with("_key.pub")))
            keys.push_back("/etc/ssh/" + name);
    }
    std::sort(keys.begin(), keys.end());
    return keys;
}

bool regenerates_ssh_host_keys(const fs::path& root) {
    return target::lstat_in_root(root, "/usr/bin/cloud-init").has_value();
}

std::vector<std::string> post_check_problems(const fs::path& root, const recipe::Recipe& r,
                                             const PostCheckOptions& options) {
    std::vector<std::string> problems;
    check_grub_cfgs(root, options.root_names, problems);
    check_machine_id(root, problems);
    if (auto keys = ssh_host_keys(root); !keys.empty() && !regenerates_ssh_host_keys(root))
        problems.push_back(fmt::format(
            "{} is in the image and nothing makes new host keys at first boot (no cloud-init): "
            "every clone would share the host's identity — a step must remove the keys and "
            "install a first-boot unit that runs `ssh-keygen -A`",
            keys.front()));
    check_helpers(root, options, problems);
    if (recipe_installs_kernel(r)) try {
            check_kernel_after_steps(root, r);
        } catch (const Error& e) {
            problems.push_back(e.what());
        }
    return problems;
}

void run_post_checks(const fs::path& root, const recipe::Recipe& r,
                     const PostCheckOptions& options) {
    auto problems = post_check_problems(root, r, options);
    if (problems.empty()) return;
    Error e(fmt::format("post-check failed: {}", problems.front()),
            "nothing was published; fix the step responsible and bake again");
    for (size_t i = 1; i < problems.size(); ++i)
        e.add_context("also: " + problems[i]);
    throw e;
}

} // namespace ccbake::bake
