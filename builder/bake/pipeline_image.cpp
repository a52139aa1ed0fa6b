// `bake --image IN --output OUT`: the recipe applied to a staged copy of a disk image, which
// is published whole by rename(2) or removed.
#include "bake/apply.h"
#include "bake/content.h"
#include "bake/digest.h"
#include "bake/journal.h"
#include "bake/layers.h"
#include "bake/manifest.h"
#include "bake/measure_image.h"
#include "bake/pipeline.h"
#include "bake/postcheck.h"
#include "bake/preflight.h"
#include "bake/record.h"
#include "bake/report.h"
#include "bake/sbom.h"
#include "bake/space.h"
#include "bake/stage.h"
#include "fetch/fetch.h"
#include "image/chroot.h"
#include "image/disk.h"
#include "image/grow.h"
#include "image/namespace.h"
#include "image/probe.h"
#include "target/in_root.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/file.h"
#include "util/strings.h"
#include "version.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <sys/statvfs.h>

namespace fs = std::filesystem;

namespace ccbake::bake {

namespace {

void check_paths(const fs::path& in, const fs::path& out) {
    struct stat a {
    }, b{};
    if (::stat(in.c_str(), &a) == 0 && ::stat(out.c_str(), &b) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino)
        throw UsageError("--output is the input image; the input is never modified",
                         "give a new file name to --output");
    fs::path dir = fs::absolute(out).parent_path();
    if (!fs::is_directory(dir))
        throw UsageError(fmt::format("the output's folder {} does not exist", dir.string()),
                         "create it first");
}

// The steps a bake will apply: those the image's journal does not show as applied.
std::vector<const recipe::Step*> steps_to_apply(const fs::path& root, const recipe::Recipe& r) {
    size_t done = applied_prefix(read_journal(root), r.steps);
    std::vector<const recipe::Step*> out;
    for (size_t i = done; i < r.steps.size(); ++i)
        out.push_back(&r.steps[i]);
    return out;
}

std::uint64_t artifact_bytes(const recipe::Recipe& r) {
    std::uint64_t n = 0;
    for (const auto& a : r.artifacts)
        n += a.size;
    return n;
}

// A disk_size smaller than the input, or a layout whose root cannot grow, is refused before
// anything is copied (raw) or right after conversion (qcow2).
void check_growth(const image::DiskLayout& layout, const image::ImageFile& info,
                  std::uint64_t disk_size, const std::string& what) {
    if (disk_size == 0 || disk_size == info.virtual_size) return;
    if (std::string why = image::growth_problem(layout, info.virtual_size, disk_size); !why.empty())
        throw PreflightError(
            fmt::format("{}: cannot grow to {}: {}", what, util::human_bytes(disk_size), why),
            "leave disk_size out or ask for a larger size");
}

// Free bytes in a mounted file system, as root may use them (reserved blocks included).
std::uint64_t free_bytes(const fs::path& mounted) {
    struct statvfs st {};
    if (::statvfs(mounted.c_str(), &st) != 0) return 0;
    return static_cast<std::uint64_t>(st.f_bfree) * st.f_frsize;
}

// A step or the publish failing while the output's file system is full most likely failed
// because of it (the staged copy grows there): say so.
void rethrow_if_disk_full(const Error& e, const fs::path& output) {
    fs::path dir = fs::absolute(output).parent_path();
    struct statvfs st {};
    if (e.exit_code() != kExitFailed || ::statvfs(dir.c_str(), &st) != 0 ||
        static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize > (8u << 20))
        return;
    Error full(fmt::format("{}; the output's file system ({}) is full", e.what(), dir.string()),
               "free space there or choose another --output folder; nothing was published",
               e.exit_code());
    for (const auto& c : e.context())
        full.add_context(c);
    throw full;
}

// Why OUT needs no bake, or "" when it does: OUT and its manifest exist, OUT is no newer than
// the manifest written after it, and the manifest records this input (by digest), this recipe
// (its hash covers every step's hash and the artifacts' digests), this ccbake and the asked
// format and size.
std::string up_to_date(const recipe::Recipe& r, const BakeOptions& o, std::uint64_t disk_size) {
    fs::path beside = o.output;
    beside += ".manifest.json";
    std::error_code ec;
    if (!fs::is_regular_file(o.output, ec) || !fs::is_regular_file(beside, ec)) return "";
    if (fs::last_write_time(o.output, ec) > fs::last_write_time(beside, ec) || ec) return "";
    auto text = util::read_file(beside);
    nlohmann::json m = nlohmann::json::parse(text.value_or(""), nullptr, false);
    if (m.is_discarded() || !m.is_object()) return "";
    auto at = [&](const nlohmann::json::json_pointer& p) {
        return m.contains(p) && m[p].is_string() ? m[p].get<std::string>() : std::string();
    };
    if (at("/recipe/hash"_json_pointer) != r.hash ||
        at("/ccbake_version"_json_pointer) != CCBAKE_VERSION ||
        at("/output_format"_json_pointer) != o.format)
        return "";
    if (disk_size && m.value("/disk/size"_json_pointer, std::uint64_t{0}) < disk_size) return "";
    // The input's digest is remembered in the cache, so this costs no hashing the second time.
    if (at("/base_image/sha256"_json_pointer) != BackgroundDigest(o.image, o.cache).get())
        return "";
    return fmt::format("{} was baked from {} with this recipe (sha256 {}) by this ccbake",
                       o.output.string(), o.image.filename().string(), r.hash.substr(0, 12));
}

} // namespace

// The pipeline, phase by phase.
static int run_pipeline(const recipe::Recipe& r, const BakeOptions& o) {
    Report report(o.json, o.verbose);
    const std::string in_name = o.image.string();
    const std::string compression = "zstd";
    const std::uint64_t disk_size = o.disk_size ? o.disk_size : r.base.disk_size;

    // Up to date: nothing to bake when OUT's manifest records this input, recipe and ccbake.
    if (!o.force) {
        if (std::string why = up_to_date(r, o, disk_size); !why.empty()) {
            report.info(why + "; --force bakes it again");
            report.summary(fmt::format("{} is up to date", o.output.string()));
            return kExitOk;
        }
    }

    // Made only for a bake that runs: an up-to-date output leaves no empty log folder behind.
    const fs::path logs = o.log_dir.empty() ? default_log_dir(o.cache, r) : o.log_dir;

    // Preflight: reject what ccbake cannot bake before copying a byte.
    image::ImageFile info;
    image::DiskLayout layout;
    report.phase("preflight", [&] {
        check_paths(o.image, o.output);
        info = image::probe_image_file(o.image);
        if (info.format == image::ImageFormat::Raw) {
            layout = image::check_disk_layout(o.image, in_name);
            image::check_efi_loader(o.image, layout.esp, in_name);
            check_growth(layout, info, disk_size, in_name);
        }
        std::uint64_t needed = space_needed(info, artifact_bytes(r), o.format);
        check_free_space(o.output, needed);
        report.info(fmt::format("{}: {} disk of {}, {} allocated", in_name,
                                info.format == image::ImageFormat::Raw ? "raw" : "qcow2",
                                util::human_bytes(info.virtual_size),
                                util::human_bytes(info.allocated)));
    });

    // Fetch: every artifact verified in the cache before the image is touched.
    auto artifacts = report.phase("fetch", [&] { return fetch_artifacts(r, o, report); });

    // Stage: a private copy beside the output; the input is only ever read.
    // The input's digest is computed alongside, for the manifest.
    StagedImage staged(o.output);
    image::GrowResult grown;
    grown.old_size = grown.new_size = info.virtual_size;
    BackgroundDigest base_digest(o.image, o.cache);
    LayerStore layer_store(layer_cache_dir(o.cache));
    try {
        report.phase("stage", [&] {
            staged.fill_from(o.image, info);
            if (info.format == image::ImageFormat::Qcow2) {
                layout = image::check_disk_layout(staged.path(), in_name);
                image::check_efi_loader(staged.path(), layout.esp, in_name);
                check_growth(layout, info, disk_size, in_name);
            }
            // Grow: a stock cloud image has too little room for the steps.
            if (disk_size > info.virtual_size) {
                fs::create_directories(logs);
                grown = image::grow_disk(staged.fd(), staged.path(), layout, disk_size, in_name,
                                         logs / "00-grow-disk.log");
                layout = grown.layout;
                report.info(fmt::format(
                    "disk grown {} -> {}; root partition {} {} -> {}, ext4 resized",
                    util::human_bytes(grown.old_size), util::human_bytes(grown.new_size),
                    layout.root.number, util::human_bytes(grown.old_root_size),
                    util::human_bytes(grown.new_root_size)));
            }
        });

        // Attach: partitions on loop devices at their offsets, mounted in the private namespace,
        // then what is inside checked against the recipe's base.
        std::unique_ptr<image::AttachedDisk> disk;
        std::unique_ptr<image::ChrootTarget> target;
        std::map<std::string, std::string> environment; // read once, before any step
        ContentFacts facts = report.phase("attach", [&] {
            disk = std::make_unique<image::AttachedDisk>(staged.fd(), staged.path(), layout,
                                                         image::private_workspace());
            report.info(disk->describe());
            ContentFacts f = check_contents(disk->root(), r, in_name);
            report.info(
                fmt::format("{}, kernel {}", f.os, f.kernel.empty() ? "from a step" : f.kernel));
            // Room for the steps, before any of them runs (exit 3 with the size to ask for).
            SpaceEstimate need =
                estimate_space(r, steps_to_apply(disk->root(), r), !f.kernel.empty());
            std::uint64_t free = free_bytes(disk->root());
            report.info(fmt::format("root file system: {} free, the steps need about {}",
                                    util::human_bytes(free), util::human_bytes(need.bytes)));
            check_space(need, free, grown.new_size, in_name);
            target = std::make_unique<image::ChrootTarget>(disk->root());
            target->share_package_cache(package_cache(o.cache, r));
            environment = reproducible_environment(disk->root());
            target->set_environment(environment);
            disk->expose_in(*target);
            return f;
        });

        // Steps: each once, journaled in the image, with its own log and timeout; the first
        // ones restored from the layer cache when an earlier bake stored them.
        auto outcomes = report.phase("steps", [&] {
            report.info("logs: " + logs.string());
            ApplyOptions ao{logs, [&](const std::string& name) { return artifacts.at(name).path; }};
            std::unique_ptr<LayerSession> layers;
            if (o.layer_cache && read_journal(disk->root()).steps.empty()) {
                auto seed = layer_chain_seed(base_digest.get(), grown.new_size, environment);
                layers = std::make_unique<LayerSession>(layer_store, layer_keys(seed, r),
                                                        disk->root(), report);
                ao.restored = layers->restore(r);
                ao.after_step = [&](std::size_t i, const StepOutcome& out) {
                    layers->after_step(i, out);
                };
            }
            return apply_steps(*target, r, ao, report);
        });
        target->release();

        // Post-checks: the image boots elsewhere, clones differ, none of ccbake's helpers remain.
        report.phase("post-checks", [&] {
            run_post_checks(disk->root(), r, {disk->own_mounts(), disk->root_names()});
        });

        // Manifest: provenance and the SBOM inside the image; the same documents go beside the
        // output, with the list of the root's content that its digest covers (`ccbake verify`).
        Recorded record = report.phase("manifest", [&] {
            std::string digest = base_digest.get();
            report.info("base image sha256 " + digest);
            ManifestInput mi{r,
                             artifacts,
                             {info.format == image::ImageFormat::Raw ? "raw" : "qcow2",
                              o.image.filename().string(), digest, fs::file_size(o.image)},
                             facts.os,
                             facts.kernel,
                             outcomes,
                             o.format,
                             {grown.old_size, grown.new_size},
                             {.list = content_list_path(o.output).filename().string()},
                             {}};
            // What a boot of the image measures (docs/measure.md), from the final ESP and GPT.
            if (const fs::path* esp = disk->esp_dir()) {
                mi.measurements = manifest_measurements(disk->root(), *esp, staged.fd(), layout);
                if (mi.measurements.value("predicted", false))
                    report.info(fmt::format(
                        "measurements: RTMR1 {} (TDVF, Secure Boot off)",
                        mi.measurements["predictions"][0]["rtmr1"].get<std::string>().substr(0,
                                                                                             16)));
                else
                    report.info("measurements not predicted: " +
                                mi.measurements["why"].get<std::string>());
            }
            return record_bake(disk->root(), mi, report);
        });

        // Publish: unmount and flush, then the output appears whole by rename(2).
        report.phase("publish", [&] {
            disk->finish();
            target.reset();
            disk.reset();
            fs::path beside = o.output;
            beside += ".manifest.json";
            staged.publish(o.output, o.format, compression);
            util::write_file_atomic(content_list_path(o.output), record.content_list);
            util::write_file_atomic(sbom_path_beside(o.output), record.sbom);
            util::write_file_atomic(beside, record.manifest);
            report.info(fmt::format("{} ({}{}), {}, {}", o.output.string(), o.format,
                                    o.format == "qcow2" ? ", " + compression + "-compressed" : "",
                                    beside.string(), sbom_path_beside(o.output).string()));
        });
        report.summary(fmt::format("baked {} into {}", r.name, o.output.string()));
    } catch (const Error& e) {
        rethrow_if_disk_full(e, o.output);
        throw;
    }
    return kExitOk;
}

int bake_image(const recipe::Recipe& r, const BakeOptions& o) {
    // First, before any thread starts: mounts and commands of this bake stay private to it.
    image::isolate_bake();
    return run_pipeline(r, o);
}

} // namespace ccbake::bake
