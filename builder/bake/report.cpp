#include "bake/report.h"

#include "util/interrupt.h"
#include "util/strings.h"

#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace ccbake::bake {

namespace {
double since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
void emit(const nlohmann::json& event) {
    std::string text = event.dump() + "\n";
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
}
} // namespace

Report::Report(bool json, int verbose)
    : style_(util::output_style(json, stdout)), verbose_(verbose) {}

void Report::line(const std::string& text) {
    if (style_ == util::Style::Live) {
        live_.clear(); // a step's progress line ends with the next permanent line
        live_.print(text);
        return;
    }
    std::fputs(text.c_str(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

void Report::begin(const std::string& name) {
    util::throw_if_interrupted(); // Ctrl-C between phases stops the bake before the next

    current_ = name;
    phase_started_ = std::chrono::steady_clock::now();
    if (style_ == util::Style::Json)
        emit({{"event", "phase-start"}, {"phase", name}});
    else
        line(fmt::format("==> {}", name));
}

void Report::end() {
    double s = since(phase_started_);
    timings_.emplace_back(current_, s);
    if (style_ == util::Style::Json)
        emit({{"event", "phase-end"}, {"phase", current_}, {"seconds", s}});
    else
        line(fmt::format("    {} took {:.2f}s", current_, s));
    current_.clear();
}

void Report::info(const std::string& text) {
    if (style_ == util::Style::Json)
        emit({{"event", "info"}, {"phase", current_}, {"message", text}});
    else
        line("    " + text);
}

void Report::starting(size_t index, size_t count, const std::string& name,
                      const std::string& kind) {
    if (style_ == util::Style::Live)
        live_.show({fmt::format("    [{}/{}] {} ({}) ...", index, count, name, kind)});
}

void Report::progress(size_t index, size_t count, const std::string& step,
                      const std::string& text) {
    std::string message = fmt::format("[{}/{}] {}: {}", index, count, step, text);
    if (style_ == util::Style::Live && !verbose_)
        live_.show({"    " + message});
    else
        info(message); // JSON: an info event, as it always was
}

void Report::command(size_t index, size_t count, const std::string& step,
                     const std::vector<std::string>& argv) {
    if (!verbose_ || style_ == util::Style::Json) return;
    line(fmt::format("    [{}/{}] {}: $ {}", index, count, step, util::join(argv, " ")));
}

void Report::step(size_t index, size_t count, const std::string& name, const std::string& kind,
                  const std::string& status, const std::vector<std::string>& changes,
                  double seconds) {
    if (style_ == util::Style::Json) {
        emit({{"event", "step"},
              {"index", index},
              {"count", count},
              {"name", name},
              {"kind", kind},
              {"status", status},
              {"changes", changes},
              {"seconds", seconds}});
        return;
    }
    std::string text = fmt::format("    [{}/{}] {} ({}): {}", index, count, name, kind, status);
    if (seconds > 0) text += fmt::format(" in {:.2f}s", seconds);
    line(text);
    for (const auto& c : changes)
        line("          " + c);
}

void Report::summary(const std::string& result) {
    double total = since(bake_started_);
    if (style_ == util::Style::Json) {
        nlohmann::json phases = nlohmann::json::object();
        for (const auto& [n, s] : timings_)
            phases[n] = s;
        emit({{"event", "result"}, {"result", result}, {"phases", phases}, {"seconds", total}});
        return;
    }
    std::string parts;
    for (const auto& [n, s] : timings_)
        parts += fmt::format("{}{} {:.2f}s", parts.empty() ? "" : ", ", n, s);
    line(fmt::format("{} in {:.2f}s ({})", result, total, parts));
}

} // namespace ccbake::bake
