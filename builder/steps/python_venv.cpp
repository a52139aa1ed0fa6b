// python_venv: create a Python virtual environment in the image and pip-install packages
// from an unpacked source tree, from the network or offline from a wheelhouse artifact.
#include "archive/extract.h"
#include "steps/install_support.h"
#include "steps/kinds.h"
#include "util/error.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <fstream>

namespace ccbake::steps {

using recipe::FieldType;

namespace {

// pip's options for where packages come from: a wheelhouse (offline), an index the recipe
// names, or pip's default index; a proxy only when the recipe names one.
std::vector<std::string> pip_source_options(StepContext& ctx, const recipe::Step& s,
                                            const install::Staging& staging) {
    std::vector<std::string> argv;
    if (s.spec.contains("wheelhouse")) {
        archive::ExtractOptions x;
        x.label = "artifact " + text(s.spec, "wheelhouse");
        archive::extract_confined(
            ctx.artifact(text(s.spec, "wheelhouse")),
            target::resolve_in_root(ctx.target.root(), staging.inside() + "/wheels"), x);
        for (const char* a : {"--no-index", "--find-links"})
            argv.push_back(a);
        argv.push_back(staging.inside() + "/wheels");
        // A wheelhouse archive may keep its wheels in one top folder.
        for (const auto& e : std::filesystem::directory_iterator(
                 target::resolve_in_root(ctx.target.root(), staging.inside() + "/wheels")))
            if (e.is_directory()) {
                argv.push_back("--find-links");
                argv.push_back(staging.inside() + "/wheels/" + e.path().filename().string());
            }
    } else if (!text(s.spec, "index_url").empty()) {
        argv.push_back("--index-url");
        argv.push_back(text(s.spec, "index_url"));
    }
    if (!text(s.spec, "proxy").empty()) {
        argv.push_back("--proxy");
        argv.push_back(text(s.spec, "proxy"));
    }
    return argv;
}

// One pip run per entry, in the recipe's order, as the vendor's installers do: a later
// project's exact pins on an earlier one are then met by what is already installed.
void pip_install(StepContext& ctx, const recipe::Step& s, const std::string& venv,
                 const std::vector<std::string>& targets) {
    install::Staging staging(ctx);
    const std::vector<std::string> sources = pip_source_options(ctx, s, staging);
    install::NetworkWhile network(ctx.target, !s.spec.contains("wheelhouse"));
    size_t n = 0;
    for (const auto& target : targets) {
        std::vector<std::string> argv = {venv + "/bin/pip", "install",
                                         "--disable-pip-version-check", "--no-input",
                                         "--no-cache-dir"};
        argv.insert(argv.end(), sources.begin(), sources.end());
        argv.push_back(target);
        util::RunOptions o;
        o.timeout = std::chrono::seconds(3600);
        ctx.progress(fmt::format("pip install [{}/{}] {}", ++n, targets.size(), target));
        ctx.run_or_fail(argv, fmt::format("pip install {} into {} failed", target, venv), o);
    }
}

// `python3 -m venv` needs ensurepip, which Debian and Ubuntu ship apart from the interpreter
// (python3.10-venv on 22.04, python3.11-venv on Debian 12) and stock cloud images lack.
std::vector<std::string> ensure_venv_module(StepContext& ctx, const std::string& python) {
    util::RunOptions o;
    // venv's own test (Debian's patch): ensurepip/__main__.py must exist.
    auto probe = ctx.target.run(
        {python, "-c",
         "import ensurepip, os; assert "
         "os.path.isfile(os.path.join(os.path.dirname(ensurepip.__file__), '__main__.py'))"},
        o);
    if (probe.exit_code == 0) return {};
    auto version =
        ctx.target.run({python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"}, o);
    const std::string v = util::trim(version.output);
    if (version.exit_code != 0 || v.empty())
        throw Error(
            fmt::format("{} does not run in the image", python),
            "install Python first (an apt_install step), or name the interpreter in `python:`");
    return install::ensure_packages(ctx, {"python" + v + "-venv"}, "for python3 -m venv");
}

StepResult apply_python_venv(StepContext& ctx, const recipe::Step& s) {
    StepResult result;
    const std::string venv = text(s.spec, "venv"), extract_to = text(s.spec, "extract_to");
    const std::string stamp = venv + "/.ccbake-installed";
    std::vector<std::string> targets;
    for (const auto& i : texts(s.spec, "install"))
        targets.push_back(util::starts_with(i, "./") ? extract_to + "/" + i.substr(2) : i);
    // What is installed is recorded in the venv, so a second apply knows it is done.
    const std::string wanted = fmt::format("{}\n{}\n", s.hash, util::join(targets, "\n"));
    if (target::exists(ctx.target.root(), venv + "/bin/python")) {
        if (target::read_in_root(ctx.target.root(), stamp) == wanted) return {};
    }
    // Folders this run creates, parents included, so a failure removes all of them.
    const std::string new_venv_dir = target::topmost_missing(ctx.target.root(), venv);
    const std::string new_src_dir = target::topmost_missing(ctx.target.root(), extract_to);
    const bool extracted = s.spec.contains("artifact") &&
                           install::extract_artifact(ctx, text(s.spec, "artifact"), extract_to, 0);
    if (extracted)
        result.changes.push_back(
            fmt::format("extracted {} to {}", text(s.spec, "artifact"), extract_to));
    const bool created = !target::exists(ctx.target.root(), venv + "/bin/python");
    try {
        if (created) {
            for (auto& c : ensure_venv_module(ctx, text(s.spec, "python")))
                result.changes.push_back(c);
            ctx.run_or_fail({text(s.spec, "python"), "-m", "venv", venv},
                            fmt::format("cannot create the virtual environment {}", venv));
            result.changes.push_back("created venv " + venv);
        }
        pip_install(ctx, s, venv, targets);
    } catch (...) {
        // What this run unpacked or created goes again, so the image is left as the step found it.
        if (created)
            target::remove_tree(ctx.target.root(), new_venv_dir.empty() ? venv : new_venv_dir);
        if (extracted)
            target::remove_tree(ctx.target.root(), new_src_dir.empty() ? extract_to : new_src_dir);
        throw;
    }
    target::write_if_changed(ctx.target.root(), stamp, wanted);
    result.changes.push_back(
        fmt::format("pip installed {} into {}", util::join(texts(s.spec, "install"), " "), venv));
    return result;
}

} // namespace

const StepKind& python_venv_kind() {
    static const StepKind kind{
        .name = "python_venv",
        .summary = "Create a Python venv and pip-install into it (e.g. NVIDIA's PPCIe verifier).",
        .details =
            "The source tarball (optional) is unpacked confined to `extract_to`; `install` entries "
            "are pip requirement specifiers or paths relative to `extract_to`, installed one pip "
            "run each, in order (a later project's exact pins on an earlier one are then met). "
            "With `wheelhouse` (an archive of wheels, build backends included) pip runs with "
            "`--no-index --find-links`, so the bake needs no network; otherwise pip reaches "
            "`index_url`, or pip's default index, during the bake. The build host's proxy "
            "variables never reach pip: a proxy is used only when `proxy` names one.",
        .fields =
            {
                {.name = "venv",
                 .type = FieldType::Path,
                 .required = true,
                 .help = "Where the virtual environment is created."},
                {.name = "artifact",
                 .type = FieldType::Artifact,
                 .help = "Source tarball to unpack first."},
                {.name = "extract_to",
                 .type = FieldType::Path,
                 .help = "Where the source is unpacked."},
                {.name = "install",
                 .type = FieldType::StringList,
                 .required = true,
                 .help = "What pip installs: paths relative to extract_to (starting with ./) or "
                         "specifiers."},
                {.name = "wheelhouse",
                 .type = FieldType::Artifact,
                 .help = "Archive of wheels for offline installs."},
                {.name = "index_url",
                 .default_value = "",
                 .help = "Package index pip uses (`--index-url`) when there is no wheelhouse; "
                         "empty: pip's default."},
                {.name = "proxy",
                 .default_value = "",
                 .help =
                     "Proxy for pip (`--proxy`), e.g. `${pip_proxy}` set with --set; empty: none."},
                {.name = "python",
                 .default_value = "python3",
                 .help = "Interpreter that creates the venv."},
            },
        .example = "python_venv:\n  artifact: nvtrust_source\n  extract_to: /opt/nvtrust/src\n"
                   "  venv: /opt/nvtrust/venv\n  install:\n"
                   "    - ./nvtrust-2025.7.17.001/guest_tools/gpu_verifiers/local_gpu_verifier\n"
                   "    - ./nvtrust-2025.7.17.001/guest_tools/attestation_sdk\n"
                   "    - ./nvtrust-2025.7.17.001/guest_tools/ppcie-verifier\n",
        .check =
            [](const recipe::Step& s, const recipe::Recipe&, const FieldLoc& loc,
               recipe::Diagnostics& d) {
                if (s.spec.contains("wheelhouse") && !text(s.spec, "index_url").empty())
                    d.error(loc("index_url"), "'index_url' and 'wheelhouse' exclude each other",
                            "a wheelhouse installs offline (--no-index); drop one of them");
                for (const char* url : {"index_url", "proxy"}) {
                    const std::string v = text(s.spec, url);
                    if (!v.empty() && !util::starts_with(v, "http://") &&
                        !util::starts_with(v, "https://"))
                        d.error(loc(url), fmt::format("{} '{}' is not an http(s) URL", url, v));
                }
                if (s.spec.contains("artifact") != s.spec.contains("extract_to"))
                    d.error(loc(s.spec.contains("artifact") ? "artifact" : "extract_to"),
                            "'artifact' and 'extract_to' go together");
                for (const auto& i : texts(s.spec, "install"))
                    if (util::starts_with(i, "./") && !s.spec.contains("extract_to"))
                        d.error(loc("install"),
                                fmt::format("'{}' is a path but nothing is unpacked", i));
                    else if (util::starts_with(i, "/") || i.find("..") != std::string::npos)
                        d.error(loc("install"),
                                fmt::format("'{}' must be relative to extract_to (./...)", i));
            },
        .describe =
            [](const recipe::Step& s, const recipe::Recipe&) {
                std::vector<std::string> out;
                if (s.spec.contains("artifact"))
                    out.push_back(fmt::format("extract {} to {}", text(s.spec, "artifact"),
                                              text(s.spec, "extract_to")));
                out.push_back(
                    fmt::format("{} -m venv {}", text(s.spec, "python"), text(s.spec, "venv")));
                std::string from =
                    s.spec.contains("wheelhouse")
                        ? "--no-index --find-links <" + text(s.spec, "wheelhouse") + "> "
                    : !text(s.spec, "index_url").empty()
                        ? "--index-url " + text(s.spec, "index_url") + " (network) "
                        : "(network, pip's default index) ";
                if (!text(s.spec, "proxy").empty())
                    from += "--proxy " + text(s.spec, "proxy") + " ";
                for (const auto& i : texts(s.spec, "install"))
                    out.push_back(fmt::format("pip install {}{}", from, i));
                return out;
            },
        .apply = apply_python_venv,
    };
    return kind;
}

} // namespace ccbake::steps
