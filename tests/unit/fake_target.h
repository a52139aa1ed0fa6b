#pragma once
// The Target that step unit tests apply steps to: a plain directory as the root (given, or a
// temporary one it owns), and a record of every command instead of running it. `handler`
// answers a command (exit 0 with no output when unset).
#include "target/target.h"

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace ccbake::testing {

class FakeTarget : public target::Target {
  public:
    using Handler =
        std::function<util::RunResult(const std::vector<std::string>&, const util::RunOptions&)>;

    // A root of its own under /tmp, removed with the target.
    FakeTarget() {
        char tmpl[] = "/tmp/ccbake-unit-target-XXXXXX";
        root_ = ::mkdtemp(tmpl);
        owned_ = true;
    }
    explicit FakeTarget(std::filesystem::path root) : root_(std::move(root)) {}
    ~FakeTarget() override {
        std::error_code ec;
        if (owned_) std::filesystem::remove_all(root_, ec);
    }
    FakeTarget(const FakeTarget&) = delete;
    FakeTarget& operator=(const FakeTarget&) = delete;

    std::filesystem::path root() const override { return root_; }
    util::RunResult run(const std::vector<std::string>& argv, const util::RunOptions& o) override {
        calls.push_back(argv);
        options.push_back(o);
        network_during.push_back(network);
        if (handler) return handler(argv, o);
        util::RunResult r;
        r.exit_code = 0;
        return r;
    }
    void set_network(bool on) override {
        network = on;
        network_toggles.push_back(on);
    }

    Handler handler;
    std::vector<std::vector<std::string>> calls;
    std::vector<util::RunOptions> options; // one per call
    std::vector<bool> network_during;      // whether the network was on, one per call
    std::vector<bool> network_toggles;     // every set_network
    bool network = false;

  private:
    std::filesystem::path root_;
    bool owned_ = false;
};

} // namespace ccbake::testing
