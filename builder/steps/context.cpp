#include "steps/context.h"

#include "util/error.h"
#include "util/strings.h"

#include <fmt/format.h>

namespace ccbake::steps {

util::RunResult StepContext::run_or_fail(const std::vector<std::string>& argv,
                                         const std::string& what, util::RunOptions options) {
    if (options.log.empty()) options.log = log;
    util::RunResult r = target.run(argv, options);
    if (r.exit_code != 0) {
        Error e(what, fmt::format("see the full log in {}", options.log.string()));
        e.add_context("command: " + util::join(argv, " "));
        e.add_context(r.timed_out ? "timed out" : fmt::format("exit status: {}", r.exit_code));
        if (!r.tail.empty())
            e.add_context("last output:\n    " + [&] {
                std::string t = r.tail;
                size_t pos = 0;
                while ((pos = t.find('\n', pos)) != std::string::npos)
                    t.replace(pos++, 1, "\n    ");
                return t;
            }());
        throw e;
    }
    return r;
}

} // namespace ccbake::steps
