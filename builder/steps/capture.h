#pragma once
// Runs a command in the target and returns its output (stdout and stderr together), for steps
// that read what a tool prints. The output is also appended to the step's log; a non-zero
// exit throws ccbake::Error like StepContext::run_or_fail.
#include "steps/context.h"

#include <string>
#include <vector>

namespace ccbake::steps {

struct Captured {
    int exit_code = 0;
    std::string output;
};

// Throws on a non-zero exit status.
std::string capture_or_fail(StepContext& ctx, const std::vector<std::string>& argv,
                            const std::string& what, util::RunOptions options = {});
// Returns the exit status instead of throwing (still throws when the program cannot start).
Captured capture(StepContext& ctx, const std::vector<std::string>& argv,
                 util::RunOptions options = {});

} // namespace ccbake::steps
