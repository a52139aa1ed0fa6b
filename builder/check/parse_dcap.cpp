#include "check/parse_dcap.h"

#include "check/text.h"

#include <fmt/format.h>
#include <regex>

namespace ccbake::check {

namespace {

// The first line matching `re`, or "".
std::string first_match(const std::string& out, const std::regex& re) {
    for (const auto& line : lines_of(out))
        if (std::regex_search(line, re)) return trim(line);
    return {};
}

} // namespace

Verdict judge_quote_generation(const std::string& out, int exit_code) {
    static const std::regex ok(R"(Successfully get the TD Quote)");
    static const std::regex failed(R"(Failed to|Error|error)");
    std::string success = first_match(out, ok);
    if (!success.empty() && exit_code == 0) {
        std::string wrote = first_match(out, std::regex(R"(Wrote TD Quote to)"));
        return {Status::Pass, wrote.empty() ? success : success + "; " + wrote, {}};
    }
    std::string why = first_match(out, failed);
    if (why.empty()) why = last_line(out);
    return {
        Status::Fail,
        fmt::format("test_tdx_attest exited {}: {}", exit_code, why.empty() ? "(no output)" : why),
        "the quote needs the TDX quote-generation service of the host (vsock or configfs-tsm); "
        "check "
        "/etc/tdx-attest.conf and that the instance type offers remote attestation"};
}

Verdict judge_quote_verification(const std::string& out) {
    static const std::regex returned(R"(Info: App: tee_verify_quote successfully returned)");
    static const std::regex completed(R"(Info: App: Verification completed successfully)");
    std::string r = first_match(out, returned), c = first_match(out, completed);
    if (!r.empty() && !c.empty()) return {Status::Pass, c, {}};
    std::string why =
        first_match(out, std::regex(R"(App: Verification completed|App: tee_verify_quote failed)"));
    if (why.empty())
        why = first_match(out, std::regex(R"(\[APP\] Error|\[QCNL\] Error|\[QPL\] Error)"));
    if (why.empty()) why = last_line(out);
    return {Status::Fail, why.empty() ? "no output from the verification app" : why,
            "collateral comes from the PCCS in /etc/sgx_default_qcnl.conf: check pccs_url, the "
            "network and "
            "the clock; a non-terminal result means the platform's TCB is out of date"};
}

} // namespace ccbake::check
