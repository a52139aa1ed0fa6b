#pragma once
// The target one step's commands go through: each command is first shown (the report's -v
// line), then run within the step's time budget: it gets the time left, and one that runs past
// it fails the step with a message naming the step and its timeout.
#include "target/target.h"

#include <chrono>
#include <functional>
#include <string>

namespace ccbake::bake {

class TimedTarget : public target::Target {
  public:
    using Shown = std::function<void(const std::vector<std::string>&)>;
    TimedTarget(target::Target& inner, std::string step_name, std::chrono::seconds budget,
                Shown shown = {});

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
    Shown shown_;
};

} // namespace ccbake::bake
