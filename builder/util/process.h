#pragma once
// Runs one program from an argv vector (never a shell string) with Boost.Process: a clean
// environment, optional standard input, output to a log file, a timeout, and its own process
// group so a timeout or Ctrl-C stops it and everything it started. Returns the exit status;
// throws ccbake::Error only when the program cannot be started or was interrupted.
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ccbake::util {

struct RunOptions {
    std::map<std::string, std::string> env; // the whole environment (nothing is inherited)
    std::optional<std::string> stdin_data;  // fed then closed; otherwise /dev/null
    std::filesystem::path cwd;              // empty: current directory
    std::filesystem::path log;       // stdout+stderr appended here; empty: captured in memory
    std::chrono::seconds timeout{0}; // 0: no limit
};

struct RunResult {
    int exit_code = -1; // the program's exit status, or 128+signal
    bool timed_out = false;
    std::string output; // captured output when no log file was given
    std::string tail;   // last lines of the output or log, for error messages
};

RunResult run(const std::vector<std::string>& argv, const RunOptions& options = {});

// Environment ccbake gives to commands: PATH, LANG=C.UTF-8, DEBIAN_FRONTEND=noninteractive.
std::map<std::string, std::string> clean_environment();

// Last `lines` lines of a file (for error context).
std::string file_tail(const std::filesystem::path& file, size_t lines = 20);

} // namespace ccbake::util
