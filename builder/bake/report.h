#pragma once
// Progress of a bake on stdout, in the style util/console.h decides: named phases, each timed,
// the outcome of each step, what a long step is doing now, and a closing summary of where the
// time went. With --json: the events phase-start, phase-end, info, step and result, one per
// line. On a terminal a step's progress is one live line, replaced by the next; in a plain log
// each progress line is a line of its own. -v adds each command a step runs in the image (and
// keeps the progress lines on a terminal).
#include "util/console.h"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace ccbake::bake {

class Report {
  public:
    Report(bool json, int verbose);

    // Runs `work` as the phase `name`, printing its start and its duration. An interrupt
    // (Ctrl-C, SIGTERM) that arrived before it stops the bake instead (exit 130).
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
    // Step `index` of `count` starts: its live line on a terminal, nothing elsewhere.
    void starting(size_t index, size_t count, const std::string& name, const std::string& kind);
    // What step `index` of `count` is doing now: "[2/5] driver: apt-get update".
    void progress(size_t index, size_t count, const std::string& step, const std::string& text);
    // A command step `index` runs in the image: "[2/5] driver: $ apt-get update" (-v only).
    void command(size_t index, size_t count, const std::string& step,
                 const std::vector<std::string>& argv);
    // One step's outcome: "[2/5] run hello: applied (1.2s)".
    void step(size_t index, size_t count, const std::string& name, const std::string& kind,
              const std::string& status, const std::vector<std::string>& changes, double seconds);
    // The closing line: phases with their timings and the total.
    void summary(const std::string& result);

  private:
    void begin(const std::string& name);
    void end();
    void line(const std::string& text); // a permanent line of text

    util::Style style_;
    int verbose_;
    util::LiveRegion live_{stdout};
    std::string current_;
    std::chrono::steady_clock::time_point phase_started_ = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point bake_started_ = std::chrono::steady_clock::now();
    std::vector<std::pair<std::string, double>> timings_;
};

} // namespace ccbake::bake
