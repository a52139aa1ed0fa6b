#pragma once
// What a step sees while it is applied: the target root behind a narrow interface (so tests
// can use a plain directory), the recipe, the verified artifacts and the step's log file.
#include "recipe/recipe.h"
#include "util/process.h"

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace ccbake::steps {

class Target {
  public:
    virtual ~Target() = default;
    // Host path of the target's "/".
    virtual std::filesystem::path root() const = 0;
    // Runs argv inside the target (chroot); options.env is added to the clean environment,
    // options.cwd is a path inside the target.
    virtual util::RunResult run(const std::vector<std::string>& argv,
                                const util::RunOptions& options) = 0;
    // Gives commands the host's DNS configuration while `on` (restored afterwards).
    virtual void set_network(bool on) = 0;
    // Bake-wide: whether apt's lists of the image's own sources were refreshed in this bake.
    virtual bool& apt_lists_refreshed() { return apt_lists_refreshed_; }

  private:
    bool apt_lists_refreshed_ = false;
};

struct StepContext {
    Target& target;
    const recipe::Recipe& recipe;
    // Host path of a verified artifact, by recipe name.
    std::function<std::filesystem::path(const std::string&)> artifact;
    std::filesystem::path log; // this step's log file
    std::function<void(const std::string&)> progress = [](const std::string&) {};

    // Host path of an absolute path inside the target.
    std::filesystem::path host_path(const std::string& inside) const;
    // Runs argv in the target, logging to `log`; a non-zero exit throws ccbake::Error with
    // `what` as the message and the argv and log tail as context.
    util::RunResult run_or_fail(const std::vector<std::string>& argv, const std::string& what,
                                util::RunOptions options = {});
};

} // namespace ccbake::steps
