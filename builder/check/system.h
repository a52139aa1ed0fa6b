#pragma once
// What the checks read and run, behind a narrow interface so tests can fake a machine.
// HostSystem reads files under a root directory ("/" in the guest; a recorded tree in
// tests) and runs programs from argv with a hard timeout, killing their process group.
#include <optional>
#include <string>
#include <vector>

namespace ccbake::check {

struct CommandResult {
    bool started = false; // false: the program does not exist or is not executable
    int exit_code = -1;   // exit status, or 128+signal
    bool timed_out = false;
    std::string output; // stdout and stderr together
};

class System {
  public:
    virtual ~System() = default;
    // Paths are absolute paths of the checked system.
    virtual std::optional<std::string> read(const std::string& path) = 0;
    virtual bool exists(const std::string& path) = 0;
    virtual std::vector<std::string> list(const std::string& dir) = 0; // entry names, sorted
    virtual bool make_dir(const std::string& path) = 0; // true if it exists afterwards
    virtual void remove_dir(const std::string& path) = 0;
    // The kernel log of this boot, raw (kmsg, dmesg or journal format).
    virtual std::string kernel_log() = 0;
    // argv[0] is a path or a name looked up in PATH; cwd is a host path ("" = current).
    virtual CommandResult run(const std::vector<std::string>& argv, int timeout_s,
                              const std::string& cwd = {}) = 0;
    virtual void sleep(int seconds) = 0;
    // A fresh scratch directory (host path) for tools that write into their working directory.
    virtual std::string make_temp_dir() = 0;
    // Removes a scratch directory from make_temp_dir and the files in it.
    virtual void remove_temp_dir(const std::string& dir) = 0;
};

class HostSystem : public System {
  public:
    explicit HostSystem(std::string root = "/");
    std::optional<std::string> read(const std::string& path) override;
    bool exists(const std::string& path) override;
    std::vector<std::string> list(const std::string& dir) override;
    bool make_dir(const std::string& path) override;
    void remove_dir(const std::string& path) override;
    std::string kernel_log() override;
    CommandResult run(const std::vector<std::string>& argv, int timeout_s,
                      const std::string& cwd = {}) override;
    void sleep(int seconds) override;
    std::string make_temp_dir() override;
    void remove_temp_dir(const std::string& dir) override;

  private:
    std::string host(const std::string& path) const;
    std::string root_;
};

// Runs argv with a timeout (used by HostSystem; exposed for tests).
CommandResult run_command(const std::vector<std::string>& argv, int timeout_s,
                          const std::string& cwd = {});

} // namespace ccbake::check
