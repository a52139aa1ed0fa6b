#include "steps/install_support.h"

#include "archive/extract.h"
#include "recipe/typecheck.h"
#include "target/in_root.h"
#include "util/error.h"
#include "util/strings.h"

#include <algorithm>
#include <atomic>
#include <fmt/format.h>
#include <fstream>
#include <regex>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace ccbake::steps::install {

bool has_headers(const StepContext& ctx, const std::string& kernel) {
    return target::is_dir(ctx.target.root(), "/lib/modules/" + kernel + "/build");
}

KernelCompiler parse_cc_version_text(const std::string& config) {
    KernelCompiler k;
    static const std::regex line(R"re((?:^|\n)CONFIG_CC_VERSION_TEXT="([^"\n]*)")re");
    std::smatch m;
    if (!std::regex_search(config, m, line)) return k;
    k.text = m[1].str();
    static const std::regex gcc(R"(^(\S*gcc(?:-(\d+))?)\s+\([^)]*\)\s+(\d+)\.\d+)");
    static const std::regex clang(R"(clang version (\d+)\.)");
    if (std::regex_search(k.text, m, gcc)) {
        const std::string major = m[3].str();
        k.program = m[2].matched && m[2].str() == major ? m[1].str() : "gcc-" + major;
        k.package = "gcc-" + major;
    } else if (std::regex_search(k.text, m, clang)) {
        k.program = "clang-" + m[1].str();
        k.package = "clang-" + m[1].str();
    }
    return k;
}

KernelCompiler kernel_compiler(const StepContext& ctx, const std::string& kernel) {
    auto config =
        target::read_in_root(ctx.target.root(), "/lib/modules/" + kernel + "/build/.config");
    return config ? parse_cc_version_text(*config) : KernelCompiler{};
}

std::string ensure_kernel_compiler(StepContext& ctx, const std::string& kernel,
                                   std::vector<std::string>& changes) {
    KernelCompiler k = kernel_compiler(ctx, kernel);
    if (k.program.empty()) {
        ctx.progress(
            fmt::format("the headers of kernel {} name no compiler (CONFIG_CC_VERSION_TEXT); "
                        "building with the image's default cc",
                        kernel));
        return "";
    }
    const std::string program = "/usr/bin/" + k.program;
    if (!target::exists(ctx.target.root(), program)) {
        auto installed = ensure_packages(
            ctx, {k.package}, fmt::format("the compiler kernel {} was built with", kernel));
        changes.insert(changes.end(), installed.begin(), installed.end());
    }
    if (!target::exists(ctx.target.root(), program))
        throw Error(
            fmt::format(
                "kernel {} was built with {}, but {} is not in the image even after installing {}",
                kernel, k.text, program, k.package),
            "install that compiler in an earlier step (apt_install), or use a kernel built with "
            "one the "
            "image has");
    ctx.progress(
        fmt::format("compiler: CC={} (kernel {} was built with {})", k.program, kernel, k.text));
    changes.push_back(fmt::format("built kernel modules with CC={} ({}, as kernel {})", k.program,
                                  k.text, kernel));
    return k.program;
}

std::map<std::string, std::string> installed_packages(StepContext& ctx) {
    util::RunOptions o;
    auto r = ctx.target.run({"dpkg-query", "-W", "-f", "${Package}\t${Status}\t${Version}\n"}, o);
    if (r.exit_code != 0)
        throw Error("cannot list the image's installed packages (dpkg-query failed)",
                    "check that the image's dpkg database is intact");
    std::map<std::string, std::string> out;
    for (const auto& line : util::split(r.output, '\n')) {
        auto f = util::split(line, '\t');
        if (f.size() == 3 && f[1] == "install ok installed") out[f[0]] = f[2];
    }
    return out;
}

// One line per package that appeared, changed version or went away.
std::vector<std::string> package_changes(const std::map<std::string, std::string>& before,
                                         const std::map<std::string, std::string>& after) {
    std::vector<std::string> out;
    for (const auto& [name, version] : after) {
        auto it = before.find(name);
        if (it == before.end())
            out.push_back(fmt::format("installed {} {}", name, version));
        else if (it->second != version)
            out.push_back(fmt::format("changed {} {} -> {}", name, it->second, version));
    }
    for (const auto& [name, version] : before)
        if (!after.count(name)) out.push_back(fmt::format("removed {} {}", name, version));
    return out;
}

NetworkWhile::NetworkWhile(Target& target, bool on) : target_(target), on_(on) {
    if (on_) target_.set_network(true);
}

NetworkWhile::~NetworkWhile() {
    if (on_) target_.set_network(false);
}

namespace {

// deb822 stanzas (*.sources) whose every URI is file:, with "Enabled: no" ones left out.
std::string local_deb822_stanzas(const std::string& text) {
    std::string out;
    auto flush = [&](const std::string& stanza) {
        static const std::regex uris(R"((^|\n)URIs:\s*([^\n]*))", std::regex::icase);
        static const std::regex disabled(R"((^|\n)Enabled:\s*no)", std::regex::icase);
        std::smatch m;
        if (!std::regex_search(stanza, m, uris) || std::regex_search(stanza, disabled)) return;
        bool all_local = true;
        for (const auto& uri : util::split(util::trim(m[2].str()), ' '))
            if (!uri.empty() && !util::starts_with(uri, "file:")) all_local = false;
        if (all_local) out += stanza + "\n";
    };
    std::string stanza;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (util::trim(line).empty()) {
            if (!stanza.empty()) flush(stanza);
            stanza.clear();
        } else if (line[0] != '#') {
            stanza += line + "\n";
        }
    }
    if (!stanza.empty()) flush(stanza);
    return out;
}

} // namespace

std::vector<std::string> hermetic_apt_options(const StepContext& ctx, const Staging& staging) {
    std::vector<std::string> files = {"/etc/apt/sources.list"};
    std::error_code ec;
    fs::path parts = target::resolve_in_root(ctx.target.root(), "/etc/apt/sources.list.d", true);
    std::vector<std::string> names;
    if (fs::is_directory(parts, ec))
        for (const auto& e : fs::directory_iterator(parts, ec))
            if (e.path().extension() == ".list" || e.path().extension() == ".sources")
                names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    for (const auto& n : names)
        files.push_back("/etc/apt/sources.list.d/" + n);
    static const std::regex local(R"(^deb(-src)?\s+(\[[^\]]*\]\s+)?file:\S+\s.*$)");
    std::string lines, stanzas;
    for (const auto& f : files) {
        std::string text = target::read_in_root(ctx.target.root(), f).value_or("");
        if (util::starts_with(fs::path(f).extension().string(), ".sources")) {
            stanzas += local_deb822_stanzas(text);
            continue;
        }
        std::istringstream in(text);
        for (std::string line; std::getline(in, line);)
            if (std::regex_match(util::trim(line), local)) lines += util::trim(line) + "\n";
    }
    if (lines.empty() && stanzas.empty())
        throw Error(
            "hermetic install, but the image has no local (file:) apt source",
            "add the repository with an apt_repo step before this one, or set hermetic: false");
    std::string list = staging.inside() + "/hermetic.list";
    target::write_if_changed(ctx.target.root(), list,
                             "# Local sources only (ccbake hermetic install)\n" + lines);
    auto options = only_sources(ctx, staging, list);
    if (!stanzas.empty())
        target::write_if_changed(ctx.target.root(), staging.inside() + "/hermetic.d/local.sources",
                                 stanzas);
    return options;
}

std::vector<std::string> only_sources(const StepContext& ctx, const Staging& staging,
                                      const std::string& list) {
    const std::string parts = staging.inside() + "/hermetic.d";
    target::make_dirs_in_root(ctx.target.root(), parts);
    return {"-o", "Dir::Etc::SourceList=" + list, "-o", "Dir::Etc::SourceParts=" + parts,
            "-o", "Dir::Cache::pkgcache=",        "-o", "Dir::Cache::srcpkgcache=",
            "-o", "APT::Get::List-Cleanup=false"};
}

void apt_get(StepContext& ctx, const std::vector<std::string>& args, const std::string& what) {
    std::vector<std::string> argv = {"apt-get", "-y",
                                     "-o",      "Dpkg::Options::=--force-confdef",
                                     "-o",      "Dpkg::Options::=--force-confold"};
    argv.insert(argv.end(), args.begin(), args.end());
    util::RunOptions o;
    o.timeout = std::chrono::seconds(3600);
    try {
        ctx.run_or_fail(argv, what, o);
    } catch (Error& e) {
        static const std::regex unknown(R"(E: Unable to locate package (\S+))");
        static const std::regex no_candidate(
            R"(E: Package '([^']+)' has no installation candidate)");
        static const std::regex no_version(R"(E: Version '([^']+)' for '([^']+)' was not found)");
        std::string tail = util::file_tail(ctx.log, 40);
        std::smatch m;
        std::string message;
        if (std::regex_search(tail, m, unknown) || std::regex_search(tail, m, no_candidate))
            message = fmt::format("apt knows no package '{}'", m[1].str());
        else if (std::regex_search(tail, m, no_version))
            message = fmt::format("apt has no version {} of package '{}'", m[1].str(), m[2].str());
        if (message.empty()) throw;
        Error named(message,
                    "check the name and version; a vendor package needs its repository first "
                    "(an apt_repo step), and `update: true` refreshes apt's lists");
        for (const auto& c : e.context())
            named.add_context(c);
        throw named;
    }
}

void refresh_apt_lists(StepContext& ctx, bool force) {
    bool& done = ctx.target.apt_lists_refreshed();
    if (done && !force) return;
    ctx.progress("apt-get update");
    apt_get(ctx, {"update"}, "apt-get update failed");
    done = true;
}

std::vector<std::string> ensure_packages(StepContext& ctx, const std::vector<std::string>& packages,
                                         const std::string& why) {
    const auto before = installed_packages(ctx);
    std::vector<std::string> missing;
    for (const auto& p : packages)
        if (!before.count(p)) missing.push_back(p);
    if (missing.empty()) return {};
    NetworkWhile network(ctx.target, true);
    refresh_apt_lists(ctx);
    std::vector<std::string> args = {"-o", "APT::Install-Suggests=false", "install",
                                     "--no-install-recommends"};
    args.insert(args.end(), missing.begin(), missing.end());
    ctx.progress(fmt::format("apt-get install {} ({})", util::join(missing, " "), why));
    apt_get(ctx, args,
            fmt::format("apt-get install {} ({}) failed", util::join(missing, " "), why));
    auto changes = package_changes(before, installed_packages(ctx));
    for (auto& c : changes)
        c += " (" + why + ")";
    return changes;
}

namespace {
std::atomic<int> staging_counter{0};
}

Staging::Staging(const StepContext& ctx) : ctx_(ctx) {
    inside_ = fmt::format("/var/tmp/ccbake-stage-{}-{}", ::getpid(), staging_counter++);
    target::remove_tree(ctx.target.root(), inside_);
    target::make_dirs_in_root(ctx.target.root(), inside_, 0700);
}

Staging::~Staging() {
    target::remove_tree(ctx_.target.root(), inside_);
}

std::string Staging::copy_artifact(const std::string& artifact, const std::string& filename) {
    fs::path from = ctx_.artifact(artifact);
    std::string inside = inside_ + "/" + filename;
    fs::copy_file(from, target::resolve_in_root(ctx_.target.root(), inside),
                  fs::copy_options::overwrite_existing);
    return inside;
}

bool extract_artifact(const StepContext& ctx, const std::string& artifact, const std::string& dest,
                      unsigned strip_components) {
    if (target::exists(ctx.target.root(), dest)) return false;
    archive::ExtractOptions o;
    o.strip_components = strip_components;
    o.label = "artifact " + artifact;
    archive::extract_confined(ctx.artifact(artifact),
                              target::resolve_in_root(ctx.target.root(), dest, true), o);
    return true;
}

} // namespace ccbake::steps::install
