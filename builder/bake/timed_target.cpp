#include "bake/timed_target.h"

#include "util/error.h"
#include "util/strings.h"

#include <fmt/format.h>

namespace ccbake::bake {

namespace {
Error timeout_error(const std::string& step, std::chrono::seconds budget,
                    const std::vector<std::string>& argv) {
    Error e(
        fmt::format("step '{}' ran past its timeout of {}s and was stopped", step, budget.count()),
        "raise the step's `timeout:` in the recipe if it needs longer");
    e.add_context("command: " + util::join(argv, " "));
    return e;
}
} // namespace

TimedTarget::TimedTarget(target::Target& inner, std::string step_name, std::chrono::seconds budget,
                         Shown shown)
    : inner_(inner), step_(std::move(step_name)), budget_(budget),
      deadline_(std::chrono::steady_clock::now() + budget), shown_(std::move(shown)) {}

util::RunResult TimedTarget::run(const std::vector<std::string>& argv,
                                 const util::RunOptions& options) {
    if (shown_) shown_(argv);
    util::RunOptions o = options;
    bool limited_by_budget = false;
    if (budget_.count() > 0) {
        auto left =
            std::chrono::ceil<std::chrono::seconds>(deadline_ - std::chrono::steady_clock::now());
        if (left.count() <= 0) throw timeout_error(step_, budget_, argv);
        if (o.timeout.count() == 0 || o.timeout >= left) {
            o.timeout = left;
            limited_by_budget = true;
        }
    }
    util::RunResult r = inner_.run(argv, o);
    if (r.timed_out && limited_by_budget) {
        Error e = timeout_error(step_, budget_, argv);
        if (!r.tail.empty()) e.add_context("last output:\n    " + r.tail);
        throw e;
    }
    return r;
}

} // namespace ccbake::bake
