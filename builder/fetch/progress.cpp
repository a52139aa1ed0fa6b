#include "fetch/progress.h"

#include "util/console.h"
#include "util/strings.h"

#include <chrono>
#include <cstdio>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

namespace ccbake::fetch {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

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
        emit({{"event", "start"},
              {"artifact", name},
              {"url", url},
              {"offset", offset},
              {"total", total}});
    }
    void advanced(const std::string& name, std::uint64_t bytes, std::uint64_t total) override {
        auto& l = live_[name];
        l.bytes = bytes;
        l.total = total;
        if (since(l.last_event) < 1.0) return;
        l.last_event = Clock::now();
        emit({{"event", "progress"},
              {"artifact", name},
              {"bytes", bytes},
              {"total", total},
              {"rate", rate(l)}});
    }
    void note(const std::string& name, const std::string& event,
              const std::string& message) override {
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
        emit({{"event", "summary"},
              {"downloaded", downloaded},
              {"cached", cached},
              {"bytes", bytes},
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

// The text both the terminal and plain logs show for an event.
std::string done_line(const std::string& name, std::uint64_t bytes, double seconds) {
    return fmt::format("{:<24} {:>10}  {:>12}  done", name, util::human_bytes(bytes),
                       format_rate(seconds > 0 ? double(bytes) / seconds : 0));
}
std::string failed_line(const std::string& name, const std::string& message) {
    return fmt::format("{:<24} failed: {}", name, message);
}
std::string note_line(const std::string& name, const std::string& message) {
    return fmt::format("{}: {}", name, message);
}
std::string summary_line(int downloaded, int cached, std::uint64_t bytes, double seconds) {
    return fmt::format("fetched {} artifact{} ({}) in {:.1f}s; {} already cached", downloaded,
                       downloaded == 1 ? "" : "s", util::human_bytes(bytes), seconds, cached);
}
// "1.2 MiB / 3.0 MiB  12.0 MiB/s  3m05s": where a download stands.
std::string state_line(const std::string& name, const Live& l) {
    double s = since(l.start);
    double r = s > 0 ? double(l.bytes - l.offset) / s : 0;
    std::string size =
        l.total ? fmt::format("{} / {}", util::human_bytes(l.bytes), util::human_bytes(l.total))
                : util::human_bytes(l.bytes);
    std::string eta = (l.total && r > 0) ? format_eta(double(l.total - l.bytes) / r) : "";
    return fmt::format("{:<24} {:>23}  {:>12}  {}", name.substr(0, 24), size, format_rate(r), eta);
}

// A terminal: one live line per active download, finished ones printed above them.
class LiveProgress : public Progress {
  public:
    void started(const std::string& name, const std::string& url, std::uint64_t offset,
                 std::uint64_t total) override {
        (void)url;
        if (!live_.count(name)) order_.push_back(name);
        live_[name] = Live{offset, offset, total};
        redraw();
    }
    void advanced(const std::string& name, std::uint64_t bytes, std::uint64_t total) override {
        auto& l = live_[name];
        l.bytes = bytes;
        l.total = total;
    }
    void note(const std::string& name, const std::string& event,
              const std::string& message) override {
        (void)event;
        region_.print(note_line(name, message));
    }
    void finished(const std::string& name, std::uint64_t bytes, double seconds) override {
        drop(name);
        region_.print(done_line(name, bytes, seconds));
    }
    void failed(const std::string& name, const std::string& message) override {
        drop(name);
        region_.print(failed_line(name, message));
    }
    void summary(int downloaded, int cached, std::uint64_t bytes, double seconds) override {
        region_.clear();
        if (downloaded == 0) return; // quiet when everything was cached
        region_.print(summary_line(downloaded, cached, bytes, seconds));
    }
    void tick() override {
        if (since(last_draw_) >= 0.2) redraw();
    }

  private:
    void drop(const std::string& name) {
        live_.erase(name);
        std::erase(order_, name);
        redraw();
    }
    void redraw() {
        std::vector<std::string> lines;
        for (const auto& name : order_)
            lines.push_back(state_line(name, live_[name]));
        region_.show(std::move(lines));
        last_draw_ = Clock::now();
    }
    util::LiveRegion region_{stderr};
    std::map<std::string, Live> live_;
    std::vector<std::string> order_;
    Clock::time_point last_draw_ = Clock::now();
};

// Anything but a terminal (CI logs, pipes): one line per event, a download's state at most
// every 10 seconds, no carriage returns or escape sequences.
class PlainProgress : public Progress {
  public:
    void started(const std::string& name, const std::string& url, std::uint64_t offset,
                 std::uint64_t total) override {
        live_[name] = Live{offset, offset, total};
        std::string from = offset ? fmt::format(", resuming at {}", util::human_bytes(offset)) : "";
        std::string size = total ? fmt::format(" ({}{})", util::human_bytes(total), from) : "";
        line(fmt::format("{}: downloading {}{}", name, url, size));
    }
    void advanced(const std::string& name, std::uint64_t bytes, std::uint64_t total) override {
        auto& l = live_[name];
        l.bytes = bytes;
        l.total = total;
        if (since(l.last_event) < 10.0) return;
        l.last_event = Clock::now();
        line(state_line(name, l));
    }
    void note(const std::string& name, const std::string& event,
              const std::string& message) override {
        (void)event;
        line(note_line(name, message));
    }
    void finished(const std::string& name, std::uint64_t bytes, double seconds) override {
        live_.erase(name);
        line(done_line(name, bytes, seconds));
    }
    void failed(const std::string& name, const std::string& message) override {
        live_.erase(name);
        line(failed_line(name, message));
    }
    void summary(int downloaded, int cached, std::uint64_t bytes, double seconds) override {
        if (downloaded == 0) return; // quiet when everything was cached
        line(summary_line(downloaded, cached, bytes, seconds));
    }

  private:
    static void line(const std::string& text) {
        std::fprintf(stderr, "%s\n", text.c_str());
        std::fflush(stderr);
    }
    std::map<std::string, Live> live_;
};

} // namespace

std::unique_ptr<Progress> make_progress(bool json) {
    switch (util::output_style(json, stderr)) {
    case util::Style::Json:
        return std::make_unique<JsonProgress>();
    case util::Style::Live:
        return std::make_unique<LiveProgress>();
    case util::Style::Plain:
        break;
    }
    return std::make_unique<PlainProgress>();
}

std::string format_rate(double bps) {
    return util::human_bytes(static_cast<unsigned long long>(bps)) + "/s";
}

std::string format_eta(double seconds) {
    if (seconds < 0 || seconds > 359999) return "";
    long s = static_cast<long>(seconds + 0.5);
    if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
    if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
    return fmt::format("{}s", s);
}

} // namespace ccbake::fetch
