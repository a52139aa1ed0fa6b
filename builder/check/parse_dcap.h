#pragma once
// Verdicts on Intel's DCAP sample tools (the guest's TD quote check) by their success lines:
// test_tdx_attest ("Successfully get the TD Quote") and QuoteVerificationSample's app
// ("tee_verify_quote successfully returned", "Verification completed successfully").
#include "check/report.h"

#include <string>

namespace ccbake::check {

Verdict judge_quote_generation(const std::string& out, int exit_code);
Verdict judge_quote_verification(const std::string& out);

} // namespace ccbake::check
