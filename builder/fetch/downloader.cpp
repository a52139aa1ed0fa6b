#include "fetch/downloader.h"

#include "fetch/dual_hasher.h"
#include "util/error.h"
#include "util/interrupt.h"
#include "util/strings.h"
#include "version.h"

#include <cerrno>
#include <cstring>
#include <curl/curl.h>
#include <deque>
#include <fcntl.h>
#include <fmt/format.h>
#include <memory>
#include <mutex>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

namespace ccbake::fetch {

namespace {

using Clock = std::chrono::steady_clock;

void init_curl_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Job {
    const Request* req = nullptr;
    Outcome out;
    size_t url_index = 0;
    int attempt = 0; // attempts made on the current URL
    enum class State { Queued, Waiting, Active, Done } state = State::Queued;
    Clock::time_point not_before{}, started{};
    bool clean_restart = false; // next attempt must start from byte 0

    // Per attempt.
    CURL* easy = nullptr;
    int fd = -1;
    std::unique_ptr<DualHasher> hasher;
    std::uint64_t offset = 0;  // bytes kept from before this attempt
    std::uint64_t written = 0; // bytes written in this attempt
    std::uint64_t total = 0;   // expected whole size for progress (0 unknown)
    bool decided = false, discard = false, too_big = false, bad_range = false;
    int write_errno = 0;
    long status = 0;
    std::string retry_after, content_range;
    char errbuf[CURL_ERROR_SIZE] = {};

    const std::string& url() const { return req->urls[url_index]; }
    std::uint64_t have() const { return offset + written; }
};

bool is_http(const std::string& url) {
    return util::starts_with(url, "http://") || util::starts_with(url, "https://");
}

// Restarts the partial file and the digests from byte 0.
bool truncate_partial(Job& j) {
    if (::ftruncate(j.fd, 0) != 0 || ::lseek(j.fd, 0, SEEK_SET) != 0) {
        j.write_errno = errno;
        return false;
    }
    j.hasher = std::make_unique<DualHasher>();
    j.offset = 0;
    j.written = 0;
    return true;
}

// First body bytes of a response: decide whether they are the file, the rest of it, or an
// error page to discard.
bool decide(Job& j) {
    j.decided = true;
    curl_easy_getinfo(j.easy, CURLINFO_RESPONSE_CODE, &j.status);
    if (!is_http(j.url())) return true;
    if (j.status >= 300 || j.status < 200) {
        j.discard = true;
        return true;
    }
    if (j.offset > 0 && j.status == 206) {
        // "bytes START-END/TOTAL": the server must continue exactly where the file stops.
        unsigned long long start = 0;
        if (std::sscanf(j.content_range.c_str(), "bytes %llu-", &start) != 1 || start != j.offset) {
            j.bad_range = true;
            return false;
        }
        return true;
    }
    if (j.offset > 0) return truncate_partial(j); // 200: no Range support, start again
    return true;
}

size_t on_write(char* data, size_t size, size_t nmemb, void* user) {
    Job& j = *static_cast<Job*>(user);
    size_t len = size * nmemb;
    if (!j.decided && !decide(j)) return 0;
    if (j.discard) return len;
    if (j.req->size && j.have() + len > j.req->size) {
        j.too_big = true;
        return 0;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = ::write(j.fd, data + done, len - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            j.write_errno = errno;
            return 0;
        }
        done += size_t(n);
    }
    j.hasher->update(data, len);
    j.written += len;
    return len;
}

size_t on_header(char* data, size_t size, size_t nmemb, void* user) {
    Job& j = *static_cast<Job*>(user);
    size_t len = size * nmemb;
    std::string line(data, len);
    if (util::starts_with(line, "HTTP/")) { // a new response (after a redirect): forget the old one
        j.retry_after.clear();
        j.content_range.clear();
    }
    auto colon = line.find(':');
    if (colon != std::string::npos) {
        std::string key = util::to_lower(util::trim(line.substr(0, colon)));
        std::string value = util::trim(line.substr(colon + 1));
        if (key == "retry-after")
            j.retry_after = value;
        else if (key == "content-range")
            j.content_range = value;
    }
    return len;
}

class Transfers {
  public:
    Transfers(const std::vector<Request>& requests, const TransferOptions& options,
              Progress& progress)
        : options_(options), progress_(progress), rng_(std::random_device{}()) {
        init_curl_once();
        multi_ = curl_multi_init();
        if (!multi_)
            throw Error("libcurl could not start", "this is a bug in ccbake; please report it");
        jobs_.resize(requests.size());
        for (size_t i = 0; i < requests.size(); ++i)
            jobs_[i].req = &requests[i];
    }
    ~Transfers() {
        for (auto& j : jobs_)
            end_attempt(j);
        curl_multi_cleanup(multi_);
    }

    std::vector<Outcome> run() {
        for (;;) {
            if (util::interrupted()) {
                for (auto& j : jobs_)
                    end_attempt(j);
                util::throw_if_interrupted();
            }
            start_ready();
            if (active_ == 0 && all_done()) break;
            int running = 0;
            curl_multi_perform(multi_, &running);
            collect();
            report();
            if (active_ > 0)
                curl_multi_poll(multi_, nullptr, 0, 100, nullptr);
            else if (!all_done())
                ::usleep(50 * 1000); // only retries waiting for their time
        }
        std::vector<Outcome> out;
        for (auto& j : jobs_)
            out.push_back(std::move(j.out));
        return out;
    }

  private:
    bool all_done() const {
        for (const auto& j : jobs_)
            if (j.state != Job::State::Done) return false;
        return true;
    }

    void start_ready() {
        auto now = Clock::now();
        for (auto& j : jobs_) {
            if (active_ >= options_.jobs) return;
            if (j.state == Job::State::Queued ||
                (j.state == Job::State::Waiting && now >= j.not_before))
                begin_attempt(j);
        }
    }

    void begin_attempt(Job& j) {
        if (j.started == Clock::time_point{}) j.started = Clock::now();
        j.attempt++;
        j.decided = j.discard = j.too_big = j.bad_range = false;
        j.write_errno = 0;
        j.status = 0;
        j.written = 0;
        j.retry_after.clear();
        j.content_range.clear();
        j.errbuf[0] = 0;
        j.fd = ::open(j.req->partial.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (j.fd < 0)
            return finish_failed(
                j,
                fmt::format("cannot create {}: {}", j.req->partial.string(), std::strerror(errno)),
                true);
        j.hasher = std::make_unique<DualHasher>();
        j.offset = 0;
        struct stat st;
        std::uint64_t existing = ::fstat(j.fd, &st) == 0 ? std::uint64_t(st.st_size) : 0;
        bool resume = existing > 0 && is_http(j.url()) && !j.clean_restart &&
                      (!j.req->size || existing < j.req->size);
        j.clean_restart = false;
        if (resume && !rehash_existing(j, existing)) resume = false;
        if (!resume && !truncate_partial(j))
            return finish_failed(j,
                                 fmt::format("cannot write {}: {}", j.req->partial.string(),
                                             std::strerror(j.write_errno)),
                                 true);
        if (resume && ::lseek(j.fd, off_t(j.offset), SEEK_SET) < 0) resume = false;

        CURL* e = curl_easy_init();
        j.easy = e;
        curl_easy_setopt(e, CURLOPT_URL, j.url().c_str());
        curl_easy_setopt(e, CURLOPT_PRIVATE, &j);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, &j);
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, &j);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j.errbuf);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https,file");
        curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(e, CURLOPT_MAXREDIRS, options_.max_redirects);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, options_.connect_timeout_s);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, options_.low_speed_limit);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, options_.low_speed_time_s);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_USERAGENT, "ccbake/" CCBAKE_VERSION);
        curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 256L * 1024);
        if (resume) {
            std::string range = fmt::format("{}-", j.offset);
            curl_easy_setopt(e, CURLOPT_RANGE, range.c_str());
        } else {
            j.offset = 0;
        }
        j.total = j.req->size;
        curl_multi_add_handle(multi_, e);
        j.state = Job::State::Active;
        active_++;
        progress_.started(j.req->name, j.url(), j.offset, j.total);
    }

    // Feeds the bytes already in the partial file to the digests (they must cover the whole
    // file after a resume).
    bool rehash_existing(Job& j, std::uint64_t existing) {
        std::vector<char> buf(1 << 20);
        std::uint64_t done = 0;
        while (done < existing) {
            ssize_t n = ::pread(j.fd, buf.data(), buf.size(), off_t(done));
            if (n <= 0) return false;
            j.hasher->update(buf.data(), size_t(n));
            done += std::uint64_t(n);
        }
        j.offset = existing;
        return true;
    }

    void end_attempt(Job& j) {
        if (j.easy) {
            curl_multi_remove_handle(multi_, j.easy);
            curl_easy_cleanup(j.easy);
            j.easy = nullptr;
            active_--;
        }
        if (j.fd >= 0) {
            ::close(j.fd);
            j.fd = -1;
        }
    }

    void collect() {
        int left = 0;
        while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
            if (msg->msg != CURLMSG_DONE) continue;
            Job* j = nullptr;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&j));
            if (!j->decided) curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &j->status);
            completed(*j, msg->data.result);
        }
    }

    void completed(Job& j, CURLcode rc) {
        const std::string url = j.url();
        if (j.write_errno) {
            std::string path = j.req->partial.string();
            end_attempt(j);
            remove_partial(j);
            Outcome& o = j.out;
            o.fatal = j.write_errno == ENOSPC || j.write_errno == EDQUOT;
            o.hint = o.fatal ? "the cache's file system is full: free space, run `ccbake cache gc "
                               "--max-size SIZE`, "
                               "or choose a larger cache with --cache"
                             : "check the cache directory (--cache)";
            return finish_failed(j,
                                 fmt::format("artifact '{}': cannot write {}: {}", j.req->name,
                                             path, std::strerror(j.write_errno)),
                                 true);
        }
        bool http = is_http(url);
        bool body_ok =
            rc == CURLE_OK && (!http || j.status == 200 || j.status == 206) && !j.discard;
        if (body_ok) return verify(j);
        if (j.too_big) {
            end_attempt(j);
            remove_partial(j);
            return next_url(j, fmt::format("sent more than the expected {} bytes", j.req->size));
        }
        if (j.bad_range) {
            end_attempt(j);
            j.clean_restart = true;
            return retry_or_next(j, "the server resumed at the wrong offset", std::nullopt);
        }
        if (rc == CURLE_OK) { // a complete HTTP response that is not the file
            std::string why = describe_status(j.status);
            auto after = parse_retry_after(j.retry_after, std::chrono::system_clock::now());
            end_attempt(j);
            if (j.status == 416) { // our partial is no prefix of this file: start again
                j.clean_restart = true;
                return retry_or_next(j, why, std::chrono::milliseconds(0));
            }
            if (retryable_status(j.status)) return retry_or_next(j, why, after);
            return next_url(j, why);
        }
        std::string why = j.errbuf[0] ? j.errbuf : curl_easy_strerror(rc);
        end_attempt(j);
        if (retryable_curl(rc)) return retry_or_next(j, why, std::nullopt);
        if (rc == CURLE_TOO_MANY_REDIRECTS)
            why = fmt::format("more than {} redirects ({})", options_.max_redirects, why);
        return next_url(j, why);
    }

    void verify(Job& j) {
        const std::string url = j.url();
        bool synced = ::fsync(j.fd) == 0;
        int err = errno;
        end_attempt(j);
        if (!synced) {
            j.write_errno = err;
            remove_partial(j);
            j.out.fatal = err == ENOSPC;
            j.out.hint =
                "the cache's file system is full or failing: free space or choose another --cache";
            return finish_failed(j,
                                 fmt::format("artifact '{}': cannot write {}: {}", j.req->name,
                                             j.req->partial.string(), std::strerror(err)),
                                 true);
        }
        j.hasher->finish();
        const std::uint64_t size = j.have();
        std::string mismatch;
        if (j.req->size && size != j.req->size)
            mismatch = fmt::format("size mismatch: expected {} bytes, got {}", j.req->size, size);
        else if (!j.req->md5.empty() && j.hasher->md5_hex() != j.req->md5)
            mismatch =
                fmt::format("md5 mismatch: expected {}, got {}", j.req->md5, j.hasher->md5_hex());
        else if (!j.req->sha256.empty() && j.hasher->sha256_hex() != j.req->sha256)
            mismatch = fmt::format("sha256 mismatch: expected {}, got {}", j.req->sha256,
                                   j.hasher->sha256_hex());
        if (mismatch.empty()) {
            Outcome& o = j.out;
            o.ok = true;
            o.md5 = j.hasher->md5_hex();
            o.sha256 = j.hasher->sha256_hex();
            o.size = size;
            o.url = url;
            o.seconds = std::chrono::duration<double>(Clock::now() - j.started).count();
            j.state = Job::State::Done;
            progress_.finished(j.req->name, size, o.seconds);
            return;
        }
        bool resumed = j.offset > 0;
        remove_partial(j);
        if (resumed) { // the kept bytes may be what is wrong: one clean try on the same URL
            j.clean_restart = true;
            j.out.attempts.push_back(fmt::format("{}: {} (after a resume)", url, mismatch));
            progress_.note(
                j.req->name, "retry",
                fmt::format("{} after a resume; downloading again from the start", mismatch));
            j.state = Job::State::Waiting;
            j.not_before = Clock::now();
            return;
        }
        next_url(j, mismatch);
    }

    void retry_or_next(Job& j, const std::string& why,
                       std::optional<std::chrono::milliseconds> after) {
        if (j.attempt >= options_.retry.tries) return next_url(j, why);
        j.out.attempts.push_back(fmt::format("{}: {}", j.url(), why));
        auto delay =
            backoff(options_.retry, j.attempt, std::uniform_real_distribution<double>(0, 1)(rng_));
        if (after) delay = std::max(delay, std::min(*after, options_.retry.retry_after_cap));
        if (after && *after == std::chrono::milliseconds(0)) delay = *after;
        progress_.note(j.req->name, "retry",
                       fmt::format("{}: {}; trying again in {:.1f}s (attempt {} of {})", j.url(),
                                   why, double(delay.count()) / 1000.0, j.attempt + 1,
                                   options_.retry.tries));
        j.state = Job::State::Waiting;
        j.not_before = Clock::now() + delay;
    }

    void next_url(Job& j, const std::string& why) {
        j.out.attempts.push_back(fmt::format("{}: {}", j.url(), why));
        if (j.url_index + 1 < j.req->urls.size()) {
            progress_.note(j.req->name, "mirror",
                           fmt::format("{}: {}; trying mirror {}", j.url(), why,
                                       j.req->urls[j.url_index + 1]));
            j.url_index++;
            j.attempt = 0;
            j.state = Job::State::Queued;
            return;
        }
        finish_failed(j, fmt::format("artifact '{}' from {}: {}", j.req->name, j.url(), why),
                      false);
    }

    void finish_failed(Job& j, const std::string& message, bool fatal_io) {
        if (fatal_io && j.out.hint.empty()) j.out.hint = "check the cache directory (--cache)";
        end_attempt(j);
        j.out.ok = false;
        j.out.error = message;
        j.state = Job::State::Done;
        // Keep a non-empty partial after network failures: the next run resumes it.
        std::error_code ec;
        if (std::filesystem::exists(j.req->partial, ec) &&
            std::filesystem::file_size(j.req->partial, ec) == 0)
            std::filesystem::remove(j.req->partial, ec);
        progress_.failed(j.req->name, message);
    }

    static void remove_partial(Job& j) {
        std::error_code ec;
        std::filesystem::remove(j.req->partial, ec);
    }

    void report() {
        for (auto& j : jobs_) {
            if (j.state != Job::State::Active || !j.easy) continue;
            std::uint64_t total = j.total;
            if (!total) {
                curl_off_t cl = -1;
                curl_easy_getinfo(j.easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
                if (cl > 0 && !j.discard) total = j.offset + std::uint64_t(cl);
            }
            progress_.advanced(j.req->name, j.have(), total);
        }
        progress_.tick();
    }

    const TransferOptions& options_;
    Progress& progress_;
    std::mt19937_64 rng_;
    CURLM* multi_ = nullptr;
    std::deque<Job> jobs_;
    int active_ = 0;
};

} // namespace

std::vector<Outcome> download(const std::vector<Request>& requests, const TransferOptions& options,
                              Progress& progress) {
    if (requests.empty()) return {};
    Transfers t(requests, options, progress);
    return t.run();
}

} // namespace ccbake::fetch
