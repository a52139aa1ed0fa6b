#include "fetch/retry.h"

#include "util/strings.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <fmt/format.h>

namespace ccbake::fetch {

bool retryable_status(long status) {
    return status == 408 || status == 425 || status == 429 || (status >= 500 && status <= 599);
}

bool retryable_curl(CURLcode code) {
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return true;
    default:
        return false;
    }
}

std::chrono::milliseconds backoff(const RetryPolicy& p, int attempt, double jitter01) {
    double ms = double(p.base.count());
    for (int i = 1; i < attempt && ms < double(p.cap.count()); ++i)
        ms *= 2;
    ms = std::min(ms, double(p.cap.count()));
    jitter01 = std::clamp(jitter01, 0.0, 1.0);
    return std::chrono::milliseconds(static_cast<long long>(ms * (0.5 + jitter01)));
}

std::optional<std::chrono::milliseconds>
parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now) {
    std::string v = util::trim(value);
    if (v.empty()) return std::nullopt;
    if (std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); })) {
        if (v.size() > 9) return std::nullopt;
        return std::chrono::milliseconds(std::stoll(v) * 1000);
    }
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    std::tm tm{};
    const char* end = strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end) return std::nullopt;
    auto when = std::chrono::system_clock::from_time_t(timegm(&tm));
    if (when <= now) return std::chrono::milliseconds(0);
    return std::chrono::duration_cast<std::chrono::milliseconds>(when - now);
}

std::string describe_status(long status) {
    const char* text = "";
    switch (status) {
    case 400:
        text = "Bad Request";
        break;
    case 401:
        text = "Unauthorized";
        break;
    case 403:
        text = "Forbidden";
        break;
    case 404:
        text = "Not Found";
        break;
    case 408:
        text = "Request Timeout";
        break;
    case 410:
        text = "Gone";
        break;
    case 416:
        text = "Range Not Satisfiable";
        break;
    case 429:
        text = "Too Many Requests";
        break;
    case 500:
        text = "Internal Server Error";
        break;
    case 502:
        text = "Bad Gateway";
        break;
    case 503:
        text = "Service Unavailable";
        break;
    case 504:
        text = "Gateway Timeout";
        break;
    default:
        break;
    }
    return *text ? fmt::format("HTTP {} {}", status, text) : fmt::format("HTTP {}", status);
}

} // namespace ccbake::fetch
