// kernel_cmdline: the arguments grub passes to Linux, written as a grub.d drop-in that wins
// over Ubuntu's 50-cloudimg-settings.cfg, with swiotlb computed from a size.
#include "config/cmdline.h"
#include "config/grub_defaults.h"
#include "steps/capture.h"
#include "steps/context.h"
#include "steps/kinds.h"
#include "target/files.h"
#include "util/error.h"
#include "util/strings.h"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <set>

namespace ccbake::steps {

using config::grub_cfg_problems;
using config::merge_cmdline;
using config::split_cmdline;
using config::swiotlb_slabs;
using recipe::FieldType;

namespace {

constexpr const char* kGrubCfg = "/boot/grub/grub.cfg";

// grub's variables after sourcing `files` in order, inside the image.
std::map<std::string, std::string> effective_vars(StepContext& ctx,
                                                  const std::vector<std::string>& files) {
    auto vars = config::parse_grub_eval(capture_or_fail(
        ctx, config::grub_eval_argv(files), "sourcing grub's default files in the image failed"));
    if (!vars.count("GRUB_CMDLINE_LINUX_DEFAULT"))
        throw Error("could not read GRUB_CMDLINE_LINUX_DEFAULT from grub's default files");
    return vars;
}

std::vector<std::string> requested_args(const recipe::Step& s) {
    auto add = texts(s.spec, "add");
    if (s.spec.contains("swiotlb"))
        add.push_back(
            fmt::format("swiotlb={}", swiotlb_slabs(s.spec["swiotlb"].get<std::uint64_t>())));
    return add;
}

std::string dropin_of(const recipe::Step& s) {
    return "/etc/default/grub.d/" + text(s.spec, "dropin");
}

void update_grub(StepContext& ctx) {
    ctx.progress("update-grub");
    Captured c = capture(ctx, {"update-grub"});
    if (c.exit_code == 0) return;
    bool no_device = c.output.find("grub-probe") != std::string::npos;
    Error e("update-grub failed in the image",
            no_device
                ? "update-grub must see the root file system's block device: bake a disk image "
                  "(--image), or set update_grub: false for a directory tree"
                : "read its output below");
    e.add_context("command: update-grub");
    e.add_context(fmt::format("exit status: {}", c.exit_code));
    auto lines = util::split(util::trim(c.output), '\n');
    if (lines.size() > 10) lines.erase(lines.begin(), lines.end() - 10);
    e.add_context("last output:\n    " + util::join(lines, "\n    "));
    throw e;
}

StepResult apply_kernel_cmdline(StepContext& ctx, const recipe::Step& s) {
    const auto root = ctx.target.root();
    const std::string dropin = "/etc/default/grub.d/" + text(s.spec, "dropin");
    const bool with_grub = flag(s.spec, "update_grub");
    std::error_code ec;
    if (with_grub && !target::exists(root, "/usr/sbin/update-grub"))
        throw Error("the image has no grub: update-grub is not installed",
                    "install grub (grub-efi-amd64) in an earlier step, or set update_grub: false");

    // The starting value is what the image's own files give, without the drop-ins of the
    // recipe's kernel_cmdline steps; then every such step up to this one applies, in recipe
    // order. Re-applying computes the same text, a changed swiotlb replaces the old one, and a
    // second step keeps what the first added unless it removes or replaces it.
    const SameKind stack = same_kind_steps(ctx.recipe, s);
    std::set<std::string> ours, later;
    for (size_t i = 0; i < stack.steps.size(); ++i) {
        ours.insert(dropin_of(*stack.steps[i]));
        if (i > stack.index && dropin_of(*stack.steps[i]) != dropin)
            later.insert(dropin_of(*stack.steps[i]));
    }
    auto files = config::grub_default_files(root);
    std::vector<std::string> others;
    std::copy_if(files.begin(), files.end(), std::back_inserter(others),
                 [&](const std::string& f) { return !ours.count(f); });
    const auto required = requested_args(s);
    const auto removed = texts(s.spec, "remove");
    auto before = effective_vars(ctx, others);
    auto args = split_cmdline(before["GRUB_CMDLINE_LINUX_DEFAULT"]);
    for (size_t i = 0; i <= stack.index; ++i)
        args = merge_cmdline(args, requested_args(*stack.steps[i]),
                             texts(stack.steps[i]->spec, "remove"));
    // Ubuntu's minimal and KVM cloud images boot without an initramfs (40-force-partuuid.cfg).
    const bool force_partuuid = !before["GRUB_FORCE_PARTUUID"].empty();

    target::WantedFile w;
    w.content = config::render_grub_dropin(args, force_partuuid);
    StepResult result{target::ensure_file(root, dropin, w)};
    if (force_partuuid && !result.changes.empty())
        result.changes.push_back("GRUB_FORCE_PARTUUID cleared: the image boots with its initramfs");

    // Prove it: every file in grub's order, the drop-in included, must give exactly `args`
    // (the drop-ins of later kernel_cmdline steps aside: those steps rewrite them).
    files = config::grub_default_files(root);
    files.erase(std::remove_if(files.begin(), files.end(),
                               [&](const std::string& f) { return later.count(f) > 0; }),
                files.end());
    auto after_vars = effective_vars(ctx, files);
    const std::string effective = after_vars["GRUB_CMDLINE_LINUX_DEFAULT"];
    if (force_partuuid && !after_vars["GRUB_FORCE_PARTUUID"].empty())
        throw Error(
            fmt::format(
                "{} does not turn off the initrd-less boot: GRUB_FORCE_PARTUUID is still \"{}\"",
                dropin, after_vars["GRUB_FORCE_PARTUUID"]),
            "a file read after the drop-in sets it again: name the drop-in so it sorts last");
    if (split_cmdline(effective) != args) {
        auto later = std::find(files.begin(), files.end(), dropin);
        std::vector<std::string> after(later == files.end() ? later : later + 1, files.end());
        throw Error(
            fmt::format("{} does not decide the kernel command line: grub's files give \"{}\"",
                        dropin, effective),
            after.empty() ? std::string("check that /bin/sh in the image sources it")
                          : "a file read after it sets GRUB_CMDLINE_LINUX_DEFAULT again (" +
                                util::join(after, ", ") + "): name the drop-in so it sorts last");
    }
    if (!with_grub) return result;

    auto cfg = target::read_in_root(root, kGrubCfg);
    auto problems = cfg ? grub_cfg_problems(*cfg, required, removed)
                        : std::vector<std::string>{"it is missing"};
    if (result.changes.empty() && problems.empty()) return result;
    update_grub(ctx);
    result.changes.push_back(std::string("update-grub regenerated ") + kGrubCfg);
    cfg = target::read_in_root(root, kGrubCfg);
    problems = cfg ? grub_cfg_problems(*cfg, required, removed)
                   : std::vector<std::string>{"it is missing"};
    if (!problems.empty()) {
        const std::string& first = problems.front();
        Error e(fmt::format("{} is wrong after update-grub: {}", kGrubCfg, first),
                first.find("no Linux entry") != std::string::npos
                    ? "install a kernel first; grub's 10_linux also writes nothing for a root it "
                      "sees as /dev/loopN"
                : first.find("loop") != std::string::npos ||
                        first.find("root=") != std::string::npos
                    ? "the chroot's /dev/disk/by-uuid must name the root file system's UUID"
                    : "check GRUB_CMDLINE_LINUX and the grub.d scripts of the image");
        for (size_t i = 1; i < problems.size() && i < 8; ++i)
            e.add_context(problems[i]);
        throw e;
    }
    return result;
}

} // namespace

const StepKind& kernel_cmdline_kind() {
    static const StepKind kind{
        .name = "kernel_cmdline",
        .summary = "Set the kernel command line through a grub drop-in, swiotlb from a size.",
        .details =
            "Writes `GRUB_CMDLINE_LINUX_DEFAULT` to `/etc/default/grub.d/DROPIN`; the default "
            "`99-ccbake.cfg` sorts after Ubuntu's `50-cloudimg-settings.cfg`, which otherwise "
            "silently overrides an edit of `/etc/default/grub`. The value starts from what the "
            "image's files give, removes `remove`, applies `add` without duplicates and sets "
            "`swiotlb=` to the size in 2 KiB slabs (MiB x 512: 4GiB -> 2097152). The effective "
            "value is proven by sourcing grub's files in grub's order, then `update-grub` runs and "
            "every Linux entry of grub.cfg is checked to carry the arguments and a root=UUID. "
            "Stacking: the command line is composed from every kernel_cmdline step in recipe order "
            "(included files first), each starting from what the earlier ones gave, so a later "
            "step keeps an earlier step's arguments unless it removes or replaces them; `plan` "
            "shows the composed line and which step added each part. Steps may share a drop-in; a "
            "later step whose drop-in sorts before an earlier step's is refused by `validate`.",
        .fields =
            {
                {.name = "swiotlb",
                 .type = FieldType::Size,
                 .help = "Bounce buffer size, e.g. 4GiB (platform default 1GiB)."},
                {.name = "add",
                 .type = FieldType::StringList,
                 .default_value = nlohmann::json::array(),
                 .help = "Arguments to add or replace."},
                {.name = "remove",
                 .type = FieldType::StringList,
                 .default_value = nlohmann::json::array(),
                 .help = "Arguments to remove; a bare key removes every key=value."},
                {.name = "dropin",
                 .default_value = "99-ccbake.cfg",
                 .help = "File name under /etc/default/grub.d/."},
                {.name = "update_grub",
                 .type = FieldType::Bool,
                 .default_value = true,
                 .help = "Run update-grub and check grub.cfg."},
            },
        .example = "kernel_cmdline:\n  swiotlb: 4GiB\n  add: [console=ttyS0, iommu=pt]\n",
        .check =
            [](const recipe::Step& s, const recipe::Recipe& r, const FieldLoc& loc,
               recipe::Diagnostics& d) {
                // Stacking: a later step's drop-in must not sort before an earlier step's other
                // drop-in, or grub would read the earlier (and so lose this step's arguments).
                const SameKind stack = same_kind_steps(r, s);
                for (size_t i = 0; i < stack.index; ++i) {
                    const auto& e = *stack.steps[i];
                    if (text(e.spec, "dropin") != text(s.spec, "dropin") &&
                        text(s.spec, "dropin") < text(e.spec, "dropin"))
                        d.error(loc("dropin"),
                                fmt::format("kernel_cmdline steps '{}' and '{}' clash: '{}' writes "
                                            "{}, which grub reads before '{}''s {}, so the earlier "
                                            "step's value would win",
                                            e.name, s.name, s.name, text(s.spec, "dropin"), e.name,
                                            text(e.spec, "dropin")),
                                "use the same drop-in for both (their arguments accumulate in "
                                "recipe order) or name the later step's drop-in so it sorts after");
                }
                if (s.spec.contains("swiotlb")) {
                    std::uint64_t bytes = s.spec["swiotlb"].get<std::uint64_t>();
                    if (bytes < (64ull << 20) || bytes > (64ull << 30))
                        d.error(
                            loc("swiotlb"),
                            fmt::format("swiotlb of {} makes no sense", util::human_bytes(bytes)),
                            "the bounce buffer is between 64MiB and 64GiB (platform default 1GiB)");
                    else if (bytes % (1ull << 20))
                        d.error(loc("swiotlb"), "swiotlb must be a whole number of MiB",
                                "the kernel counts 2 KiB slabs: MiB x 512");
                }
                for (const auto& list : {"add", "remove"})
                    for (const auto& a : texts(s.spec, list)) {
                        if (a.empty() || a.find_first_of(" \t\n'\\$`") != std::string::npos)
                            d.error(loc(list),
                                    fmt::format("'{}' is not a single kernel argument", a),
                                    "list each argument separately, without spaces or quotes");
                        if (s.spec.contains("swiotlb") && util::starts_with(a, "swiotlb"))
                            d.error(loc(list), "swiotlb is set by the 'swiotlb' size field",
                                    "remove it from this list");
                    }
                if (text(s.spec, "dropin").find('/') != std::string::npos ||
                    text(s.spec, "dropin").size() < 5 ||
                    text(s.spec, "dropin").substr(text(s.spec, "dropin").size() - 4) != ".cfg")
                    d.error(loc("dropin"), "'dropin' must be a file name ending in .cfg",
                            "grub only reads /etc/default/grub.d/*.cfg");
                else if (text(s.spec, "dropin") < "50-cloudimg-settings.cfg")
                    d.error(loc("dropin"),
                            fmt::format(
                                "{} sorts before 50-cloudimg-settings.cfg, which would override it",
                                text(s.spec, "dropin")),
                            "name it 99-....cfg so it is read last");
            },
        .describe =
            [](const recipe::Step& s, const recipe::Recipe& r) {
                std::vector<std::string> args = texts(s.spec, "add");
                std::vector<std::string> out;
                if (s.spec.contains("swiotlb")) {
                    std::uint64_t bytes = s.spec["swiotlb"].get<std::uint64_t>();
                    args.push_back(fmt::format("swiotlb={}", swiotlb_slabs(bytes)));
                    out.push_back(fmt::format("swiotlb={} ({} = {} MiB x 512 slabs of 2 KiB)",
                                              swiotlb_slabs(bytes), util::human_bytes(bytes),
                                              bytes >> 20));
                }
                out.push_back(
                    fmt::format("/etc/default/grub.d/{}: GRUB_CMDLINE_LINUX_DEFAULT += {}",
                                text(s.spec, "dropin"), util::join(args, " ")));
                auto removed = texts(s.spec, "remove");
                if (!removed.empty()) out.push_back("remove: " + util::join(removed, " "));
                if (flag(s.spec, "update_grub"))
                    out.push_back("update-grub; check every Linux entry");
                // The last kernel_cmdline step shows what all of them compose, and who added what.
                const SameKind stack = same_kind_steps(r, s);
                if (stack.steps.size() > 1 && stack.index + 1 == stack.steps.size()) {
                    std::vector<std::string> composed;
                    std::map<std::string, std::string> from;
                    for (const auto* t : stack.steps) {
                        auto next =
                            merge_cmdline(composed, requested_args(*t), texts(t->spec, "remove"));
                        for (const auto& a : next)
                            if (std::find(composed.begin(), composed.end(), a) == composed.end())
                                from[a] = t->name;
                        composed = next;
                    }
                    std::vector<std::string> parts;
                    for (const auto& a : composed)
                        parts.push_back(fmt::format("{} ({})", a, from[a]));
                    out.push_back(fmt::format(
                        "composed by {} kernel_cmdline steps, after the image's own: {}",
                        stack.steps.size(), util::join(parts, " ")));
                }
                return out;
            },
        .apply = apply_kernel_cmdline,
    };
    return kind;
}

} // namespace ccbake::steps
