#pragma once
// Progress of a bake for people (or JSON events with --json): named phases, each timed, with
// detail lines inside them, and a closing summary of where the time went.
#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace ccbake::bake {

class Report {
  public:
    explicit Report(bool json) : json_(json) {}

    // Runs `work` as the phase `name`, printing its start and its duration.
    template <typename F> auto phase(const std::string& name, F&& work) -> decltype(work()) {
        begin(name);
        struct End {
            Report* r;
            ~End() { r->end(); }
        } end_guard{this};
        return work();
    }
    // A detail line inside the current phase.
    void info(const std::string& text);
    // One step's outcome: "[2/5] run hello: applied (1.2s)".
    void step(size_t index, size_t count, const std::string& name, const std::string& kind,
              const std::string& status, const std::vector<std::string>& changes, double seconds);
    // The closing line: phases with their timings and the total.
    void summary(const std::string& result);
    const std::vector<std::pair<std::string, double>>& timings() const { return timings_; }

  private:
    void begin(const std::string& name);
    void end();

    bool json_;
    std::string current_;
    std::chrono::steady_clock::time_point phase_started_ = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point bake_started_ = std::chrono::steady_clock::now();
    std::vector<std::pair<std::string, double>> timings_;
};

} // namespace ccbake::bake
