#include "check/report.h"

#include <algorithm>
#include <fmt/format.h>

namespace ccbake::check {

const char* status_name(Status s) {
    switch (s) {
    case Status::Pass:
        return "pass";
    case Status::Fail:
        return "fail";
    case Status::Skip:
        return "skip";
    }
    return "?";
}

const CheckResult* Report::find(const std::string& id) const {
    for (const auto& c : checks_)
        if (c.id == id) return &c;
    return nullptr;
}

bool Report::passed(const std::string& id) const {
    const CheckResult* c = find(id);
    return c && c->status == Status::Pass;
}

bool Report::ok() const {
    return std::none_of(checks_.begin(), checks_.end(), [](const CheckResult& c) {
        return c.required && c.status != Status::Pass;
    });
}

nlohmann::json Report::to_json(const nlohmann::json& meta) const {
    nlohmann::json out = meta;
    out["ok"] = ok();
    nlohmann::json counts = {{"pass", 0}, {"fail", 0}, {"skip", 0}};
    out["checks"] = nlohmann::json::array();
    for (const auto& c : checks_) {
        counts[status_name(c.status)] = counts[status_name(c.status)].get<int>() + 1;
        nlohmann::json j = {{"id", c.id},
                            {"title", c.title},
                            {"status", status_name(c.status)},
                            {"required", c.required},
                            {"evidence", c.evidence},
                            {"applicable", c.applicable}};
        if (c.status != Status::Pass && !c.hint.empty()) j["hint"] = c.hint;
        if (!c.details.empty()) j["details"] = c.details;
        out["checks"].push_back(std::move(j));
    }
    out["summary"] = counts;
    return out;
}

std::string Report::summary_line() const {
    int pass = 0, fail = 0, skip = 0, required_failed = 0;
    for (const auto& c : checks_) {
        if (c.status == Status::Pass) ++pass;
        if (c.status == Status::Fail) ++fail;
        if (c.status == Status::Skip) ++skip;
        if (c.required && c.status != Status::Pass) ++required_failed;
    }
    std::string verdict = ok() ? "OK: every required check passed"
                               : fmt::format("NOT OK: {} required check{} failed", required_failed,
                                             required_failed == 1 ? "" : "s");
    return fmt::format("ccbake-check: {} passed, {} failed, {} skipped; {}", pass, fail, skip,
                       verdict);
}

std::string Report::to_table() const {
    size_t width = 5;
    for (const auto& c : checks_)
        width = std::max(width, c.id.size());
    std::string out =
        fmt::format("{:<6} {:<4} {:<{}} {}\n", "STATUS", "REQ", "CHECK", width, "EVIDENCE");
    for (const auto& c : checks_) {
        std::string status = c.status == Status::Fail ? "FAIL" : status_name(c.status);
        out += fmt::format("{:<6} {:<4} {:<{}} {}\n", status, c.required ? "yes" : "-", c.id, width,
                           c.evidence);
        if (c.status == Status::Fail && !c.hint.empty())
            out += fmt::format("{:<6} {:<4} {:<{}} what to do: {}\n", "", "", "", width, c.hint);
    }
    out += summary_line() + "\n";
    return out;
}

} // namespace ccbake::check
