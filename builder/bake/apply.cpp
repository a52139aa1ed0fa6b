#include "bake/apply.h"

#include "bake/journal.h"
#include "bake/timed_target.h"
#include "steps/step.h"
#include "util/error.h"
#include "util/interrupt.h"

#include <fmt/format.h>
#include <functional>

namespace fs = std::filesystem;

namespace ccbake::bake {

namespace {

double since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::string log_name(size_t index, const recipe::Step& s) {
    std::string safe;
    for (char c : s.name)
        safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
    return fmt::format("{:02}-{}.log", index, safe);
}

StepOutcome apply_one(target::Target& target, const recipe::Recipe& r, const recipe::Step& s,
                      size_t index, const ApplyOptions& options, Report& report) {
    const steps::StepKind* kind = steps::find_kind(s.kind);
    std::chrono::seconds budget{s.spec.at("timeout").get<std::chrono::seconds::rep>()};
    const size_t count = r.steps.size();
    TimedTarget timed(target, s.name, budget, [&](const std::vector<std::string>& argv) {
        report.command(index, count, s.name, argv);
    });
    steps::StepContext ctx{timed, r, options.artifact, options.log_dir / log_name(index, s)};
    // What a long step is doing now ("apt-get update", "compiler: CC=gcc-12 ..."), for people.
    ctx.progress = [&](const std::string& message) {
        report.progress(index, count, s.name, message);
    };
    report.starting(index, count, s.name, s.kind);
    auto start = std::chrono::steady_clock::now();
    try {
        steps::StepResult result = kind->apply(ctx, s);
        return {s.name, s.kind, s.hash, true, result.changes, since(start)};
    } catch (Error& e) {
        if (e.exit_code() == kExitInterrupted) throw;
        Error wrapped(fmt::format("step '{}' ({}) failed: {}", s.name, s.kind, e.what()),
                      e.hint().empty() ? fmt::format("see the step's log {}", ctx.log.string())
                                       : e.hint(),
                      e.exit_code());
        wrapped.add_context(fmt::format("recipe: {}:{}", s.where.file, s.where.line));
        for (const auto& c : e.context())
            wrapped.add_context(c);
        throw wrapped;
    } catch (const std::exception& e) {
        Error wrapped(fmt::format("step '{}' ({}) failed: {}", s.name, s.kind, e.what()),
                      fmt::format("see the step's log {}", ctx.log.string()));
        wrapped.add_context(fmt::format("recipe: {}:{}", s.where.file, s.where.line));
        throw wrapped;
    }
}

} // namespace

std::vector<StepOutcome> apply_steps(target::Target& target, const recipe::Recipe& r,
                                     const ApplyOptions& options, Report& report) {
    fs::create_directories(options.log_dir);
    const fs::path root = target.root();
    Journal journal = read_journal(root);
    size_t done = applied_prefix(journal, r.steps);
    if (done < journal.steps.size())
        report.info(
            fmt::format("step '{}' changed since the last bake: re-applying from there on",
                        done < r.steps.size() ? r.steps[done].name : journal.steps[done].name));
    journal.recipe = r.name;
    journal.steps.resize(done);

    std::vector<StepOutcome> outcomes;
    for (size_t i = 0; i < r.steps.size(); ++i) {
        const recipe::Step& s = r.steps[i];
        util::throw_if_interrupted();
        if (i < options.restored.size()) {
            outcomes.push_back(options.restored[i]);
            report.step(i + 1, r.steps.size(), s.name, s.kind, "applied (layer cache)",
                        options.restored[i].changes, 0);
            continue;
        }
        if (i < done) {
            outcomes.push_back({s.name, s.kind, s.hash, false, journal.steps[i].changes, 0});
            report.step(i + 1, r.steps.size(), s.name, s.kind, "already applied", {}, 0);
            continue;
        }
        StepOutcome o = apply_one(target, r, s, i + 1, options, report);
        journal.steps.push_back({s.name, s.kind, s.hash, o.changes});
        write_journal(root, journal);
        report.step(i + 1, r.steps.size(), s.name, s.kind,
                    o.changes.empty() ? "nothing to change" : "applied", o.changes, o.seconds);
        if (options.after_step) options.after_step(i, o);
        outcomes.push_back(std::move(o));
    }
    if (done == r.steps.size() && options.restored.size() < done)
        report.info("every step was already applied: nothing to do");
    return outcomes;
}

} // namespace ccbake::bake
