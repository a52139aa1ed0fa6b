#pragma once
// Transfers files with libcurl's multi interface, several at a time: http, https and file
// URLs, TLS verification always on, bounded redirects, connect and low-speed timeouts,
// retries with backoff (retry.h), resume with Range, mirrors in order. Bytes are hashed as
// they arrive; a transfer succeeds only when its file is complete, fsynced and matches every
// expected digest. Never throws for a failed transfer: each request gets an Outcome.
#include "fetch/progress.h"
#include "fetch/retry.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ccbake::fetch {

struct Request {
    std::string name;              // artifact name, for messages
    std::vector<std::string> urls; // primary, then mirrors
    std::filesystem::path partial; // where bytes go; an existing file is resumed
    std::string md5, sha256;       // expected ("" = not checked)
    std::uint64_t size = 0;        // expected (0 = not checked)
};

struct Outcome {
    bool ok = false;
    bool fatal = false;      // e.g. the disk is full: no point trying other artifacts
    std::string md5, sha256; // of the whole file
    std::uint64_t size = 0;
    std::string url;                   // the URL that delivered it
    std::string error, hint;           // when !ok: one line for people
    std::vector<std::string> attempts; // "URL: reason" for every failed attempt
    double seconds = 0;
};

struct TransferOptions {
    int jobs = 4;
    RetryPolicy retry;
    long connect_timeout_s = 30;
    long low_speed_limit = 1024; // bytes/s ...
    long low_speed_time_s = 30;  // ... for this long aborts the attempt
    long max_redirects = 5;
};

// Runs every request to completion (or until Ctrl-C, which throws after stopping transfers
// and keeping partial files for a later resume).
std::vector<Outcome> download(const std::vector<Request>& requests, const TransferOptions& options,
                              Progress& progress);

} // namespace ccbake::fetch
