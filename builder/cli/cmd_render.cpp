// ccbake render cloud-init RECIPE -o DIR: user-data, meta-data and a NoCloud seed ISO
// rendered from the recipe (see docs/cloud-init.md).
#include "cli/app.h"
#include "render/cloud_init.h"
#include "render/seed_iso.h"
#include "util/error.h"
#include "util/file.h"

#include <fmt/format.h>
#include <iostream>
#include <nlohmann/json.hpp>

namespace ccbake::cli {

namespace {

namespace fs = std::filesystem;

void register_render(CLI::App& app, Globals& g) {
    auto* render = app.add_subcommand("render", "Render material for other tools from a recipe");
    render->require_subcommand(1);
    auto* ci = render->add_subcommand(
        "cloud-init", "Render cloud-init user-data, meta-data and a NoCloud seed ISO");
    static std::string recipe_path, out_dir, mode = "check";
    static std::vector<std::string> sets;
    static int wait_s = 0;
    ci->add_option("RECIPE", recipe_path, "Recipe file")->required()->check(CLI::ExistingFile);
    ci->add_option("-o,--output", out_dir, "Directory for user-data, meta-data and seed.iso")
        ->required();
    ci->add_option("--mode", mode, "check: the first-boot checks (the only mode)")
        ->check(CLI::Validator(
            [](const std::string& m) -> std::string {
                if (m == "check") return "";
                if (m == "bake-at-boot")
                    return "bake-at-boot was removed: its steps were a second implementation "
                           "that drifted from `ccbake bake`; bake the image offline (the Packer "
                           "post-processor runs `ccbake bake` on the built image), see "
                           "docs/cloud-init.md";
                return "unknown mode " + m + " (the only mode is check)";
            },
            "check", "mode"))
        ->capture_default_str();
    ci->add_option(
          "--wait-persistenced", wait_s,
          "Seconds to wait for nvidia-persistenced before GPU checks (default: the recipe's "
          "guest_check persistenced_timeout, else 900)")
        ->check(CLI::Range(1, 86400));
    add_set_option(*ci, sets);
    ci->callback([&g] {
        recipe::Recipe r = load_or_die(recipe_path, sets);
        render::CloudInitOptions options;
        options.persistenced_timeout_s = wait_s;
        render::CloudInitFiles files = render::render_cloud_init(r, options);

        fs::path dir(out_dir);
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec) throw UsageError(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
        util::write_file_atomic(dir / "user-data", files.user_data);
        util::write_file_atomic(dir / "meta-data", files.meta_data);
        render::write_seed_iso(dir / "seed.iso",
                               {{"user-data", files.user_data}, {"meta-data", files.meta_data}});

        if (g.json) {
            nlohmann::json j = {{"recipe", r.name},
                                {"recipe_hash", r.hash},
                                {"mode", mode},
                                {"user_data", (dir / "user-data").string()},
                                {"meta_data", (dir / "meta-data").string()},
                                {"seed_iso", (dir / "seed.iso").string()},
                                {"volume_id", "cidata"}};
            std::cout << j.dump(2) << "\n";
        } else {
            std::cout << fmt::format("rendered {} ({}) for recipe {}\n", dir.string(), mode, r.name)
                      << fmt::format("  {}\n  {}\n  {}  (NoCloud seed, volume label cidata)\n",
                                     (dir / "user-data").string(), (dir / "meta-data").string(),
                                     (dir / "seed.iso").string());
            if (g.verbose) // what the guest will run at first boot
                std::cout << "\n" << files.user_data;
        }
        g.exit_code = 0;
    });
}

} // namespace

static const CommandRegistrar registered(60, register_render);

} // namespace ccbake::cli
