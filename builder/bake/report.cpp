#include "bake/report.h"

#include <fmt/format.h>
#include <iostream>
#include <nlohmann/json.hpp>

namespace ccbake::bake {

namespace {
double since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
void emit(const nlohmann::json& event) {
    std::cout << event.dump() << "\n" << std::flush;
}
} // namespace

void Report::begin(const std::string& name) {
    current_ = name;
    phase_started_ = std::chrono::steady_clock::now();
    if (json_)
        emit({{"event", "phase-start"}, {"phase", name}});
    else
        std::cout << fmt::format("==> {}\n", name) << std::flush;
}

void Report::end() {
    double s = since(phase_started_);
    timings_.emplace_back(current_, s);
    if (json_)
        emit({{"event", "phase-end"}, {"phase", current_}, {"seconds", s}});
    else
        std::cout << fmt::format("    {} took {:.2f}s\n", current_, s) << std::flush;
    current_.clear();
}

void Report::info(const std::string& text) {
    if (json_)
        emit({{"event", "info"}, {"phase", current_}, {"message", text}});
    else
        std::cout << "    " << text << "\n" << std::flush;
}

void Report::step(size_t index, size_t count, const std::string& name, const std::string& kind,
                  const std::string& status, const std::vector<std::string>& changes,
                  double seconds) {
    if (json_) {
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
    std::cout << fmt::format("    [{}/{}] {} ({}): {}", index, count, name, kind, status);
    if (seconds > 0) std::cout << fmt::format(" in {:.2f}s", seconds);
    std::cout << "\n";
    for (const auto& c : changes)
        std::cout << "          " << c << "\n";
    std::cout << std::flush;
}

void Report::summary(const std::string& result) {
    double total = since(bake_started_);
    if (json_) {
        nlohmann::json phases = nlohmann::json::object();
        for (const auto& [n, s] : timings_)
            phases[n] = s;
        emit({{"event", "result"}, {"result", result}, {"phases", phases}, {"seconds", total}});
        return;
    }
    std::string parts;
    for (const auto& [n, s] : timings_)
        parts += fmt::format("{}{} {:.2f}s", parts.empty() ? "" : ", ", n, s);
    std::cout << fmt::format("{} in {:.2f}s ({})\n", result, total, parts) << std::flush;
}

} // namespace ccbake::bake
