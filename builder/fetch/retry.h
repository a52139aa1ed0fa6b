#pragma once
// When a failed transfer is tried again and after how long: network errors, 5xx and 429 are
// retried with exponential backoff and jitter (a server's Retry-After wins when longer); other
// 4xx responses, TLS failures and redirect loops are not. Pure functions, no I/O.
#include <chrono>
#include <curl/curl.h>
#include <optional>
#include <string>
#include <string_view>

namespace ccbake::fetch {

struct RetryPolicy {
    int tries = 4;                                     // attempts per URL
    std::chrono::milliseconds base{500};               // first backoff
    std::chrono::milliseconds cap{30000};              // longest backoff
    std::chrono::milliseconds retry_after_cap{120000}; // longest Retry-After honoured
};

// Whether an HTTP status (after a complete response) deserves another try.
bool retryable_status(long status);
// Whether a libcurl result deserves another try (connection refused, reset, timeout, ...).
bool retryable_curl(CURLcode code);

// Backoff before attempt `attempt` (1 = the first retry): base * 2^(attempt-1), capped, times
// a jitter factor in [0.5, 1.5) given as `jitter01` in [0, 1).
std::chrono::milliseconds backoff(const RetryPolicy& p, int attempt, double jitter01);

// Parses a Retry-After value: delay-seconds or an HTTP date (relative to `now`).
std::optional<std::chrono::milliseconds>
parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now);

// A short reason for people: "HTTP 503 Service Unavailable", "connection refused", ...
std::string describe_status(long status);

} // namespace ccbake::fetch
