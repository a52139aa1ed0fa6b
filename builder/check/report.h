#pragma once
// The checker's result: one line per check (pass/fail/skip, the evidence, what to do on
// failure), the rule that a required check which could not run counts as failed, the exit
// code (0 only when every required check passed), and the human table and JSON forms.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ccbake::check {

enum class Status { Pass, Fail, Skip };

const char* status_name(Status s);

// The outcome of judging one tool's output: status, the evidence line, what to do.
struct Verdict {
    Status status = Status::Fail;
    std::string evidence;
    std::string hint;
};

struct CheckResult {
    std::string id;    // stable name, e.g. "tdx.cpu_flag"
    std::string title; // what is checked, for people
    Status status = Status::Skip;
    std::string evidence; // the line that decided it
    std::string hint;     // what to do when it failed (or why a required skip matters)
    bool required = false;
    bool applicable = true; // false: the configuration says this check does not apply
    nlohmann::json details = nlohmann::json::object();
};

class Report {
  public:
    void add(CheckResult r) { checks_.push_back(std::move(r)); }
    const std::vector<CheckResult>& checks() const { return checks_; }
    const CheckResult* find(const std::string& id) const;
    bool passed(const std::string& id) const;

    // Marks each check required or not; a required check that was skipped although it
    // applies becomes a failure (the hardware or tool it needs is missing).
    template <typename IsRequired> void apply_requirements(IsRequired is_required) {
        for (auto& c : checks_) {
            c.required = c.applicable && is_required(c.id);
            if (c.required && c.status == Status::Skip) {
                c.status = Status::Fail;
                if (c.hint.empty()) c.hint = "this check is required by the image's recipe";
            }
        }
    }

    // Every required check passed.
    bool ok() const;
    int exit_code() const { return ok() ? 0 : 1; }

    nlohmann::json to_json(const nlohmann::json& meta) const;
    std::string to_table() const;
    std::string summary_line() const;

  private:
    std::vector<CheckResult> checks_;
};

} // namespace ccbake::check
