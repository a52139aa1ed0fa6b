#pragma once
// A Target wrapper that enforces one step's time budget over every command the step runs:
// each command gets the time left, and one that runs past it fails the step with a message
// naming the step and its timeout.
#include "target/target.h"

#include <chrono>
#include <string>

namespace ccbake::bake {

class TimedTarget : public target::Target {
  public:
    TimedTarget(target::Target& inner, std::string step_name, std::chrono::seconds budget);

    std::filesystem::path root() const override { return inner_.root(); }
    util::RunResult run(const std::vector<std::string>& argv,
                        const util::RunOptions& options) override;
    void set_network(bool on) override { inner_.set_network(on); }
    bool& apt_lists_refreshed() override { return inner_.apt_lists_refreshed(); }

  private:
    target::Target& inner_;
    std::string step_;
    std::chrono::seconds budget_;
    std::chrono::steady_clock::time_point deadline_;
};

} // namespace ccbake::bake
