#pragma once
// The root being baked, behind the narrow interface steps see (so tests can use a plain
// directory): where its "/" is on the host, and running an argv inside it. The chroot target
// (image/chroot.h) and the timing wrapper (bake/timed_target.h) implement it.
#include "util/process.h"

#include <filesystem>
#include <string>
#include <vector>

namespace ccbake::target {

class Target {
  public:
    virtual ~Target() = default;
    // Host path of the target's "/".
    virtual std::filesystem::path root() const = 0;
    // Runs argv inside the target (chroot); options.env is added to the clean environment,
    // options.cwd is a path inside the target.
    virtual util::RunResult run(const std::vector<std::string>& argv,
                                const util::RunOptions& options) = 0;
    // Gives commands the host's DNS configuration while `on` (restored afterwards).
    virtual void set_network(bool on) = 0;
    // Bake-wide: whether apt's lists of the image's own sources were refreshed in this bake.
    virtual bool& apt_lists_refreshed() { return apt_lists_refreshed_; }

  private:
    bool apt_lists_refreshed_ = false;
};

} // namespace ccbake::target
