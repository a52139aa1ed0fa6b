#pragma once
// What a user sees while artifacts download, on stderr, in the style util/console.h decides:
// with --json one JSON object per line ({"event": ...}); on a terminal one live line per
// active download (name, bytes, rate, ETA) and a summary; otherwise plain text, one line per
// event (start, retry, done, ...). Nothing for artifacts already cached.
#include <cstdint>
#include <memory>
#include <string>

namespace ccbake::fetch {

class Progress {
  public:
    virtual ~Progress() = default;
    virtual void started(const std::string& name, const std::string& url, std::uint64_t offset,
                         std::uint64_t total) = 0;
    // bytes so far (including resumed bytes) out of total (0: unknown); called often.
    virtual void advanced(const std::string& name, std::uint64_t bytes, std::uint64_t total) = 0;
    virtual void note(const std::string& name, const std::string& event,
                      const std::string& message) = 0;
    virtual void finished(const std::string& name, std::uint64_t bytes, double seconds) = 0;
    virtual void failed(const std::string& name, const std::string& message) = 0;
    virtual void summary(int downloaded, int cached, std::uint64_t bytes, double seconds) = 0;
    // Redraws live lines (terminal only); called from the transfer loop.
    virtual void tick() {}
};

// The progress for util::output_style(json, stderr).
std::unique_ptr<Progress> make_progress(bool json);

// "12.0 MiB/s", "3m05s": formatting shared with tests.
std::string format_rate(double bytes_per_second);
std::string format_eta(double seconds);

} // namespace ccbake::fetch
