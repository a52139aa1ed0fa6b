#pragma once
// Applies a recipe's steps to a target in order: each step with its own log file and its own
// timeout, the journal updated after every step, and the steps the journal shows as already
// applied (same content hash, same place) skipped. Throws Error naming the failed step.
#include "bake/report.h"
#include "recipe/recipe.h"
#include "steps/context.h"

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace ccbake::bake {

struct StepOutcome {
    std::string name, kind, hash;
    bool applied = false; // false: the journal showed it as already applied
    std::vector<std::string> changes;
    double seconds = 0;
};

struct ApplyOptions {
    std::filesystem::path log_dir;                                     // one log file per step
    std::function<std::filesystem::path(const std::string&)> artifact; // name -> host path
    // The first steps, restored from the layer cache before apply_steps runs (their journal
    // entries are in the root): reported as applied, with the changes their bake recorded.
    std::vector<StepOutcome> restored;
    // Called after each step applied here (0-based index), with the journal written.
    std::function<void(std::size_t, const StepOutcome&)> after_step;
};

std::vector<StepOutcome> apply_steps(target::Target& target, const recipe::Recipe& r,
                                     const ApplyOptions& options, Report& report);

} // namespace ccbake::bake
