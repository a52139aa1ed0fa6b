#include "fetch/progress.h"

#include <chrono>
#include <cstdio>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>
#include <unistd.h>
#include <vector>

#include "util/strings.h"

namespace ccbake::fetch {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Live {
    std::uint64_t offset = 0, bytes = 0, total = 0;
    Clock::time_point start = Clock::now();
    Clock::time_point last_event = Clock::now();
};

class JsonProgress : public Progress {
public:
    void started(const std::string& name, const std::string& url, std::uint64_t offset,
                 std::uint64_t total) override {
        live_[name] = Live{offset, offset, total};
        emit({{"event", "start"}, {"artifact", name}, {"url", url}, {"offset", offset}, {"total", total}});
    }
    void advanced(const std::string& name, std::uint64_t bytes, std::uint64_t total) override {
        auto& l = live_[name];
        l.bytes = bytes;
        l.total = total;
        if (since(l.last_event) < 1.0) return;
        l.last_event = Clock::now();
        emit({{"event", "progress"}, {"artifact", name}, {"bytes", bytes}, {"total", total},
              {"rate", rate(l)}});
    }
    void note(const std::string& name, const std::string& event, const std::string& message) override {
        emit({{"event", event}, {"artifact", name}, {"message", message}});
    }
    void finished(const std::string& name, std::uint64_t bytes, double seconds) override {
        live_.erase(name);
        emit({{"event", "done"}, {"artifact", name}, {"bytes", bytes}, {"seconds", seconds}});
    }
    void failed(const std::string& name, const std::string& message) override {
        live_.erase(name);
        emit({{"event", "failed"}, {"artifact", name}, {"message", message}});
    }
    void summary(int downloaded, int cached, std::uint64_t bytes, double seconds) override {
        emit({{"event", "summary"}, {"downloaded", downloaded}, {"cached", cached}, {"bytes", bytes},
              {"seconds", seconds}});
    }

private:
    static double rate(const Live& l) {
        double s = since(l.start);
        return s > 0 ? double(l.bytes - l.offset) / s : 0.0;
    }
    static void emit(const nlohmann::json& j) {
        std::string line = j.dump() + "\n";
        std::fwrite(line.data(), 1, line.size(), stderr);
        std::fflush(stderr);
    }
    std::map<std::string, Live> live_;
};

class TtyProgress : public Progress {
public:
    ~TtyProgress() override { clear(); }
    void started(const std::string& name, const std::string& url, std::uint64_t offset,
                 std::uint64_t total) override {
        (void)url;
        if (!live_.count(name)) order_.push_back(name);
        live_[name] = Live{offset, offset, total};
        redraw(true);
    }
    void advanced(const std::string& name, std::uint64_t bytes, std::uint64_t total) override {
        auto& l = live_[name];
        l.bytes = bytes;
        l.total = total;
    }
    void note(const std::string& name, const std::string& event, const std::string& message) override {
        (void)event;
        print_above(fmt::format("{}: {}", name, message));
    }
    void finished(const std::string& name, std::uint64_t bytes, double seconds) override {
        drop(name);
        print_above(fmt::format("{:<24} {:>10}  {:>12}  done", name, util::human_bytes(bytes),
                                format_rate(seconds > 0 ? double(bytes) / seconds : 0)));
    }
    void failed(const std::string& name, const std::string& message) override {
        drop(name);
        print_above(fmt::format("{:<24} failed: {}", name, message));
    }
    void summary(int downloaded, int cached, std::uint64_t bytes, double seconds) override {
        clear();
        if (downloaded == 0) return;  // quiet when everything was cached
        std::fprintf(stderr, "%s\n",
                     fmt::format("fetched {} artifact{} ({}) in {:.1f}s; {} already cached", downloaded,
                                 downloaded == 1 ? "" : "s", util::human_bytes(bytes), seconds, cached)
                         .c_str());
    }
    void tick() override {
        if (since(last_draw_) >= 0.2) redraw(true);
    }

private:
    void drop(const std::string& name) {
        live_.erase(name);
        std::erase(order_, name);
    }
    void clear() {
        for (int i = 0; i < drawn_; ++i) std::fputs("\033[1A\r\033[2K", stderr);
        drawn_ = 0;
    }
    void print_above(const std::string& line) {
        clear();
        std::fprintf(stderr, "%s\n", line.c_str());
        redraw(true);
    }
    void redraw(bool force) {
        if (!force) return;
        clear();
        for (const auto& name : order_) {
            const Live& l = live_[name];
            double s = since(l.start);
            double r = s > 0 ? double(l.bytes - l.offset) / s : 0;
            std::string size = l.total ? fmt::format("{} / {}", util::human_bytes(l.bytes), util::human_bytes(l.total))
                                       : util::human_bytes(l.bytes);
            std::string eta = (l.total && r > 0) ? format_eta(double(l.total - l.bytes) / r) : "";
            std::fprintf(stderr, "%s\n",
                         fmt::format("{:<24} {:>23}  {:>12}  {}", name.substr(0, 24), size, format_rate(r), eta)
                             .c_str());
            ++drawn_;
        }
        std::fflush(stderr);
        last_draw_ = Clock::now();
    }
    std::map<std::string, Live> live_;
    std::vector<std::string> order_;
    int drawn_ = 0;
    Clock::time_point last_draw_ = Clock::now();
};

}  // namespace

std::unique_ptr<Progress> make_progress(bool json) {
    if (json || !::isatty(STDERR_FILENO)) return std::make_unique<JsonProgress>();
    return std::make_unique<TtyProgress>();
}

std::string format_rate(double bps) { return util::human_bytes(static_cast<unsigned long long>(bps)) + "/s"; }

std::string format_eta(double seconds) {
    if (seconds < 0 || seconds > 359999) return "";
    long s = static_cast<long>(seconds + 0.5);
    if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
    if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
    return fmt::format("{}s", s);
}

}  // namespace ccbake::fetch
