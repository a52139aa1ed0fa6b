#include "render/cloud_init_boot.h"

#include "steps/kernel_cmdline.h"
#include "steps/step.h"
#include "util/error.h"
#include "util/strings.h"

#include <filesystem>
#include <fmt/format.h>
#include <set>

namespace ccbake::render {

using nlohmann::json;
using steps::text;
using steps::texts;
using Argv = std::vector<std::string>;
namespace fs = std::filesystem;

namespace {

std::string or_dash(const std::string& s) {
    return s.empty() ? "-" : s;
}

Argv concat(Argv a, const Argv& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// `env K=V... ` in front of argv: env(1) sets the variables without a shell.
Argv with_env(const json& env, const Argv& argv) {
    if (!env.is_object() || env.empty()) return argv;
    Argv out{"/usr/bin/env"};
    for (const auto& [k, v] : env.items())
        out.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
    return concat(out, argv);
}

const Argv kAptGet{"/usr/bin/env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-y", "-q"};

// Translates one step at a time; collects the helper commands and the staged files.
class Translator {
  public:
    explicit Translator(const recipe::Recipe& r) : r_(r) {}

    BootCommands run() {
        for (size_t i = 0; i < r_.steps.size(); ++i) {
            index_ = std::to_string(i + 1);
            step_ = &r_.steps[i];
            translate(*step_);
        }
        if (!unpinned_.empty())
            throw UsageError(
                fmt::format(
                    "bake-at-boot would download {} unverified: no sha256 or md5 in the recipe",
                    util::join(std::vector<std::string>(unpinned_.begin(), unpinned_.end()), ", ")),
                "pin them with `ccbake lock` (RECIPE.lock is read), or render --mode check");
        return std::move(out_);
    }

  private:
    void helper(const std::string& action, const Argv& args) {
        out_.runcmd.push_back(
            concat({kFirstbootHelper, "step", index_, step_->name, action}, args));
    }
    // Runs argv in CWD; skipped when `creates` exists and, with `verify`, must create it.
    void command(const Argv& argv, const std::string& cwd = "/", const std::string& creates = "",
                 bool verify = false, const std::string& env_file = "") {
        helper("run",
               concat({or_dash(creates), verify ? "yes" : "no", or_dash(env_file), cwd}, argv));
    }
    void install(const std::string& dest, const std::string& content,
                 const std::string& mode = "0644", const std::string& owner = "root:root") {
        std::string staged = fmt::format("/var/lib/ccbake/firstboot/files/{:03}-{}",
                                         out_.files.size() + 1, dest.substr(dest.rfind('/') + 1));
        out_.files.push_back({staged, content, "0600"});
        helper("install-file", {staged, dest, mode, owner});
    }
    // Fetches an artifact into the helper's cache; returns its path there.
    std::string fetch(const std::string& name) {
        const recipe::Artifact* a = r_.artifact(name);
        if (!a) throw Error(fmt::format("step {} uses unknown artifact '{}'", step_->name, name));
        if (a->sha256.empty() && a->md5.empty()) unpinned_.insert(name);
        helper("fetch", concat({a->filename, or_dash(a->sha256), or_dash(a->md5)}, a->urls()));
        return a->filename;
    }
    std::string cached(const std::string& filename) {
        return std::string(kFirstbootCache) + "/" + filename;
    }
    void note(const std::string& what) {
        out_.notes.push_back(fmt::format("step {} ({}): {}", index_, step_->name, what));
    }

    void translate(const recipe::Step& s) {
        const json& p = s.spec;
        if (s.kind == "kernel")
            kernel(p);
        else if (s.kind == "apt_repo")
            apt_repo(p);
        else if (s.kind == "apt_install")
            apt_install(p);
        else if (s.kind == "deb_install")
            deb_install(p);
        else if (s.kind == "nvidia_driver")
            nvidia_driver(p);
        else if (s.kind == "vendor_installer")
            vendor_installer(p);
        else if (s.kind == "source_build")
            source_build(p);
        else if (s.kind == "python_venv")
            python_venv(p);
        else if (s.kind == "kernel_cmdline")
            kernel_cmdline(p);
        else if (s.kind == "systemd")
            systemd(p);
        else if (s.kind == "json_edit")
            json_edit(p);
        else if (s.kind == "modprobe")
            modprobe(p);
        else if (s.kind == "file")
            file(p);
        else if (s.kind == "run")
            run_step(p);
        else if (s.kind == "guest_check")
            note("not applied: ccbake-check comes only with an offline bake; the helper runs the "
                 "vendor's checks");
        else
            throw UsageError(fmt::format("bake-at-boot cannot render step kind '{}'", s.kind),
                             "render --mode check, or bake offline with `ccbake bake`");
    }

    void kernel(const json& p) {
        Argv pkgs{text(p, "package")};
        if (p.value("headers", true)) pkgs.push_back(text(p, "headers_package"));
        command(concat(concat(kAptGet, {"install"}), pkgs));
        if (p.value("block_reboot", true))
            install("/etc/apt/apt.conf.d/99-ccbake-no-reboot",
                    "// Written by ccbake: in-guest reboot is unsupported on TDX.\n"
                    "Unattended-Upgrade::Automatic-Reboot \"false\";\n");
        note("the new kernel runs only after a stop/start from the console; grub's default entry "
             "is left to the package");
    }

    void apt_repo(const json& p) {
        std::string file = fetch(text(p, "artifact")), dest = text(p, "dest");
        helper("unpack", {file, dest, std::to_string(p.value("strip_components", 1))});
        Argv options = texts(p, "options");
        if (!text(p, "signed_by").empty())
            options.push_back("signed-by=" + dest + "/" + text(p, "signed_by"));
        std::string line = "deb ";
        if (!options.empty()) line += "[" + util::join(options, " ") + "] ";
        line += fmt::format("file:{} {} {}\n", dest, text(p, "suite"),
                            util::join(texts(p, "components"), " "));
        install("/etc/apt/sources.list.d/" + text(p, "list") + ".list", line);
        if (p.value("update", true)) command(concat(kAptGet, {"update"}));
    }

    void apt_install(const json& p) {
        if (p.value("update", false)) command(concat(kAptGet, {"update"}));
        Argv argv = concat(kAptGet, {"install"});
        if (!p.value("recommends", true)) argv.push_back("--no-install-recommends");
        command(concat(argv, texts(p, "packages")));
        if (p.value("hermetic", false))
            note("hermetic is not enforced: apt may use every configured source");
    }

    void deb_install(const json& p) {
        Argv files;
        for (const auto& d : p["debs"]) {
            std::string file = fetch(text(d, "artifact"));
            helper("check-deb", {file, text(d, "package"), text(d, "version")});
            files.push_back(cached(file));
        }
        command(concat(concat(kAptGet, {"install"}), files));
    }

    void nvidia_driver(const json& p) {
        std::string file = fetch(text(p, "artifact")), kernel = text(p, "kernel");
        Argv args{"--silent", "--kernel-module-type=" + text(p, "module_type")};
        if (p.value("dkms", true)) args.push_back("--dkms");
        helper("nvidia-run", concat(concat({file, kernel}, args), texts(p, "extra_args")));
        if (p.value("blacklist_nouveau", true))
            install("/etc/modprobe.d/blacklist-nouveau.conf",
                    "blacklist nouveau\noptions nouveau modeset=0\n");
        if (p.value("lkca", true))
            install("/etc/modprobe.d/nvidia-lkca.conf", "softdep nvidia pre: ecdsa_generic ecdh\n");
        if (p.value("update_initramfs", true)) helper("initramfs", {kernel});
        if (kernel == "auto")
            note("kernel 'auto' is the newest kernel installed in the guest at boot");
    }

    void vendor_installer(const json& p) {
        std::string file = fetch(text(p, "artifact"));
        Argv answers = texts(p, "answers");
        Argv args = concat({text(p, "creates"), std::to_string(answers.size())}, answers);
        helper("answers", concat(args, with_env(p.value("env", json::object()),
                                                concat({cached(file)}, texts(p, "args")))));
    }

    void source_build(const json& p) {
        if (!text(p, "artifact").empty())
            helper("unpack", {fetch(text(p, "artifact")), text(p, "extract_to"), "0"});
        const json& makes = p["make"];
        for (size_t i = 0; i < makes.size(); ++i) {
            Argv argv{"make"};
            for (const auto& a : makes[i])
                argv.push_back(a.get<std::string>());
            bool last = i + 1 == makes.size();
            command(with_env(p.value("env", json::object()), argv), text(p, "dir"),
                    text(p, "creates"), last && !text(p, "creates").empty(), text(p, "env_file"));
        }
    }

    void python_venv(const json& p) {
        std::string venv = text(p, "venv"), src = text(p, "extract_to");
        if (!text(p, "artifact").empty()) helper("unpack", {fetch(text(p, "artifact")), src, "0"});
        command({text(p, "python"), "-m", "venv", venv}, "/", venv + "/bin/python3", true);
        Argv pip{venv + "/bin/pip", "install"};
        if (!text(p, "wheelhouse").empty()) {
            std::string wheels =
                std::string(kFirstbootCache) + "/wheelhouse-" + text(p, "wheelhouse");
            helper("unpack", {fetch(text(p, "wheelhouse")), wheels, "0"});
            pip = concat(pip, {"--no-index", "--find-links", wheels});
        } else if (!text(p, "index_url").empty()) {
            pip = concat(pip, {"--index-url", text(p, "index_url")});
        }
        if (!text(p, "proxy").empty()) pip = concat(pip, {"--proxy", text(p, "proxy")});
        // One pip run per entry, in order, as the bake does.
        for (const auto& i : texts(p, "install"))
            command(concat(pip, {i}), src.empty() ? "/" : src);
    }

    void kernel_cmdline(const json& p) {
        Argv add = texts(p, "add"), remove = texts(p, "remove");
        if (p.contains("swiotlb"))
            add.push_back(
                fmt::format("swiotlb={}", steps::swiotlb_slabs(p["swiotlb"].get<std::uint64_t>())));
        Argv args{text(p, "dropin"), p.value("update_grub", true) ? "yes" : "no",
                  std::to_string(remove.size())};
        helper("grub-cmdline", concat(concat(args, remove), add));
        note("the command line takes effect after a stop/start from the console");
    }

    void systemd(const json& p) {
        Argv written;
        for (const auto& u : p.value("units", json::array())) {
            install("/etc/systemd/system/" + text(u, "name"), text(u, "content"));
            written.push_back(text(u, "name"));
        }
        for (const auto& o : p.value("ordering", json::array())) {
            std::string body =
                "# Written by ccbake: ordering systemd honours ([Unit], not [Install]).\n[Unit]\n";
            for (const auto& [key, list] : {std::pair{"After", "after"},
                                            {"Before", "before"},
                                            {"Wants", "wants"},
                                            {"Requires", "requires"}})
                if (auto v = texts(o, list); !v.empty())
                    body += fmt::format("{}={}\n", key, util::join(v, " "));
            install(
                fmt::format("/etc/systemd/system/{}.d/50-ccbake-ordering.conf", text(o, "unit")),
                body);
        }
        command({"systemctl", "daemon-reload"});
        if (auto enable = texts(p, "enable"); !enable.empty())
            command(concat({"systemctl", "enable"}, enable));
        if (p.value("verify", true) && !written.empty()) {
            command(concat({"systemd-analyze", "verify"}, written));
            note("systemd-analyze verify runs, but its warnings do not fail the step");
        }
    }

    void json_edit(const json& p) {
        Argv args{text(p, "path")};
        const json set = p.value("set", json::object()),
                   hosts = p.value("replace_host", json::object());
        for (const auto& [k, v] : set.items())
            args = concat(args, {"set", k, v.dump()});
        for (const auto& [k, v] : hosts.items())
            args = concat(args, {"host", k, v.get<std::string>()});
        helper("json-edit", args);
    }

    void modprobe(const json& p) {
        std::string body = "# Written by ccbake.\n";
        for (const auto& sd : p.value("softdeps", json::array())) {
            body += "softdep " + text(sd, "module");
            if (auto pre = texts(sd, "pre"); !pre.empty()) body += " pre: " + util::join(pre, " ");
            if (auto post = texts(sd, "post"); !post.empty())
                body += " post: " + util::join(post, " ");
            body += "\n";
        }
        for (const auto& m : texts(p, "blacklist"))
            body += "blacklist " + m + "\n";
        const json options = p.value("options", json::object());
        for (const auto& [m, opts] : options.items())
            body += "options " + m + " " + opts.get<std::string>() + "\n";
        install("/etc/modprobe.d/" + text(p, "file"), body);
        if (auto load = texts(p, "load"); !load.empty())
            install("/etc/modules-load.d/" + text(p, "file"), util::join(load, "\n") + "\n");
        helper("initramfs", {"auto"});
    }

    void file(const json& p) {
        std::string mode = text(p, "mode"), owner = text(p, "owner");
        if (!text(p, "artifact").empty())
            helper("install-file", {fetch(text(p, "artifact")), text(p, "path"), mode, owner});
        else
            install(text(p, "path"), text(p, "content"), mode, owner);
    }

    void run_step(const json& p) {
        std::string creates = text(p, "creates");
        command(with_env(p.value("env", json::object()), texts(p, "argv")), text(p, "cwd"), creates,
                !creates.empty());
        if (!p.value("network", false))
            note("runs with the guest's network, which the offline bake withholds");
    }

    const recipe::Recipe& r_;
    const recipe::Step* step_ = nullptr;
    std::string index_;
    BootCommands out_;
    std::set<std::string> unpinned_;
};

bool contains(const std::string& s, const char* what) {
    return s.find(what) != std::string::npos;
}

} // namespace

BootCommands boot_commands(const recipe::Recipe& r) {
    return Translator(r).run();
}

int persistenced_timeout(const recipe::Recipe& r) {
    for (const auto& s : r.steps)
        if (s.kind == "guest_check" && s.spec.contains("persistenced_timeout") &&
            s.spec["persistenced_timeout"].is_number())
            return s.spec["persistenced_timeout"].get<int>();
    return 900;
}

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

} // namespace ccbake::render
