#pragma once
// Errors for people: one line saying what failed, an optional hint saying what to do,
// and context lines (step, argv, log tail). Thrown by the layers that know the user's
// intent; main() prints them and exits with `exit_code` (the exit codes in README.md).
#include <stdexcept>
#include <string>
#include <vector>

namespace ccbake {

enum ExitCode : int {
    kExitOk = 0,
    kExitFailed = 1,    // the work failed: a step, a download, a checksum
    kExitUsage = 2,     // usage or recipe error
    kExitPreflight = 3, // the input image was rejected by preflight
    kExitInterrupted = 130,
};

class Error : public std::runtime_error {
  public:
    explicit Error(std::string message, std::string hint = {}, int exit_code = kExitFailed)
        : std::runtime_error(std::move(message)), hint_(std::move(hint)), exit_code_(exit_code) {}

    const std::string& hint() const { return hint_; }
    int exit_code() const { return exit_code_; }
    const std::vector<std::string>& context() const { return context_; }
    Error& add_context(std::string line) {
        context_.push_back(std::move(line));
        return *this;
    }

  private:
    std::string hint_;
    int exit_code_;
    std::vector<std::string> context_;
};

// Bad command line or bad recipe (exit 2).
class UsageError : public Error {
  public:
    explicit UsageError(std::string message, std::string hint = {})
        : Error(std::move(message), std::move(hint), kExitUsage) {}
};

// The input image is not something ccbake can bake (exit 3).
class PreflightError : public Error {
  public:
    explicit PreflightError(std::string message, std::string hint = {})
        : Error(std::move(message), std::move(hint), kExitPreflight) {}
};

} // namespace ccbake
