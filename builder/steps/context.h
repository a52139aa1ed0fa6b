#pragma once
// What a step sees while it is applied: the target root (target/target.h), the recipe, the
// verified artifacts, the step's log file and its progress channel.
#include "recipe/recipe.h"
#include "target/target.h"
#include "util/process.h"

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace ccbake::steps {

using target::Target;

struct StepContext {
    Target& target;
    const recipe::Recipe& recipe;
    // Host path of a verified artifact, by recipe name.
    std::function<std::filesystem::path(const std::string&)> artifact;
    std::filesystem::path log; // this step's log file
    std::function<void(const std::string&)> progress = [](const std::string&) {};

    // Runs argv in the target, logging to `log`; a non-zero exit throws ccbake::Error with
    // `what` as the message and the argv and log tail as context.
    util::RunResult run_or_fail(const std::vector<std::string>& argv, const std::string& what,
                                util::RunOptions options = {});
};

} // namespace ccbake::steps
