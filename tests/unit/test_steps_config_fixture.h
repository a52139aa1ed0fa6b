#pragma once
// A scratch image root and a fake Target for step tests: commands are recorded and answered
// by a callback instead of running in a chroot.
#include "fake_target.h"
#include "recipe/recipe.h"
#include "schema_step.h"
#include "steps/context.h"
#include "steps/step.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace ccbake::testing {

struct ScratchRoot {
    std::filesystem::path dir;
    ScratchRoot() {
        char tmpl[] = "/tmp/ccbake-unit-root.XXXXXX";
        dir = ::mkdtemp(tmpl);
        std::filesystem::create_directories(dir / "etc");
    }
    ~ScratchRoot() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    ScratchRoot(const ScratchRoot&) = delete;
    ScratchRoot& operator=(const ScratchRoot&) = delete;

    std::filesystem::path path(const std::string& inside) const {
        return dir / std::filesystem::path(inside).relative_path();
    }
    void write(const std::string& inside, const std::string& content) const {
        std::filesystem::create_directories(path(inside).parent_path());
        std::ofstream(path(inside), std::ios::binary | std::ios::trunc) << content;
    }
    std::string read(const std::string& inside) const {
        std::ifstream in(path(inside), std::ios::binary);
        return std::string((std::istreambuf_iterator<char>(in)), {});
    }
};

using testing::FakeTarget;

struct StepHarness {
    ScratchRoot root;
    FakeTarget target{root.dir};
    recipe::Recipe recipe;
    std::filesystem::path artifacts_dir;
    steps::StepContext ctx{target, recipe,
                           [this](const std::string& name) { return root.dir / ".." / name; },
                           root.dir.parent_path() / (root.dir.filename().string() + ".log")};
    ~StepHarness() {
        std::error_code ec;
        std::filesystem::remove(ctx.log, ec);
    }

    // Applies a step of `kind` whose spec went through the kind's schema (schema_step.h).
    steps::StepResult apply(const std::string& kind, const nlohmann::json& spec) {
        return steps::find_kind(kind)->apply(ctx, schema_step(kind, spec, kind));
    }
};

} // namespace ccbake::testing
