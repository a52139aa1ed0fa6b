#include "fetch/retry.h"

#include <doctest/doctest.h>

using namespace ccbake::fetch;
using std::chrono::milliseconds;

TEST_CASE("server errors and throttling are retried, other client errors are not") {
    for (long s : {429L, 500L, 502L, 503L, 504L, 408L})
        CHECK_MESSAGE(retryable_status(s), s);
    for (long s : {400L, 401L, 403L, 404L, 410L})
        CHECK_MESSAGE(!retryable_status(s), s);
}

TEST_CASE("network failures are retried; TLS failures and redirect loops are not") {
    CHECK(retryable_curl(CURLE_COULDNT_CONNECT));
    CHECK(retryable_curl(CURLE_PARTIAL_FILE));
    CHECK(retryable_curl(CURLE_OPERATION_TIMEDOUT));
    CHECK(retryable_curl(CURLE_RECV_ERROR));
    CHECK(!retryable_curl(CURLE_PEER_FAILED_VERIFICATION));
    CHECK(!retryable_curl(CURLE_TOO_MANY_REDIRECTS));
    CHECK(!retryable_curl(CURLE_UNSUPPORTED_PROTOCOL));
}

TEST_CASE("backoff doubles per attempt, stays within the jitter band and the cap") {
    RetryPolicy p;
    p.base = milliseconds(500);
    p.cap = milliseconds(4000);
    CHECK(backoff(p, 1, 0.5) == milliseconds(500));
    CHECK(backoff(p, 2, 0.5) == milliseconds(1000));
    CHECK(backoff(p, 3, 0.5) == milliseconds(2000));
    CHECK(backoff(p, 10, 0.5) == milliseconds(4000));
    CHECK(backoff(p, 2, 0.0) == milliseconds(500));   // jitter: x0.5 ...
    CHECK(backoff(p, 2, 0.999) < milliseconds(1500)); // ... to under x1.5
}

TEST_CASE("Retry-After accepts seconds and HTTP dates") {
    auto now = std::chrono::system_clock::from_time_t(784111777); // Sun, 06 Nov 1994 08:49:37 GMT
    CHECK(parse_retry_after("7", now) == milliseconds(7000));
    CHECK(parse_retry_after(" 0 ", now) == milliseconds(0));
    CHECK(parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now) == milliseconds(30000));
    CHECK(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now) ==
          milliseconds(0)); // in the past
    CHECK(!parse_retry_after("soon", now));
    CHECK(!parse_retry_after("", now));
    CHECK(!parse_retry_after("-5", now));
}

TEST_CASE("status lines name the status for people") {
    CHECK(describe_status(404) == "HTTP 404 Not Found");
    CHECK(describe_status(503) == "HTTP 503 Service Unavailable");
    CHECK(describe_status(418) == "HTTP 418");
}
