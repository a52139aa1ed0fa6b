#include "steps/capture.h"

#include "util/error.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <fstream>

namespace ccbake::steps {

Captured capture(StepContext& ctx, const std::vector<std::string>& argv, util::RunOptions options) {
    options.log.clear();
    util::RunResult r = ctx.target.run(argv, options);
    if (!ctx.log.empty()) {
        std::ofstream log(ctx.log, std::ios::app);
        log << "$ " << util::join(argv, " ") << "\n" << r.output;
        if (!r.output.empty() && r.output.back() != '\n') log << "\n";
    }
    return {r.timed_out ? -1 : r.exit_code, r.output};
}

std::string capture_or_fail(StepContext& ctx, const std::vector<std::string>& argv,
                            const std::string& what, util::RunOptions options) {
    Captured c = capture(ctx, argv, std::move(options));
    if (c.exit_code != 0) {
        Error e(what,
                ctx.log.empty() ? "" : fmt::format("see the full log in {}", ctx.log.string()));
        e.add_context("command: " + util::join(argv, " "));
        e.add_context(fmt::format("exit status: {}", c.exit_code));
        auto lines = util::split(util::trim(c.output), '\n');
        if (lines.size() > 15) lines.erase(lines.begin(), lines.end() - 15);
        if (!lines.empty() && !lines[0].empty())
            e.add_context("last output:\n    " + util::join(lines, "\n    "));
        throw e;
    }
    return c.output;
}

} // namespace ccbake::steps
