#pragma once
// Recipe diagnostics: every problem is collected (never just the first) and printed as
// `file:line:col: error: message`, the offending source line, and a caret under the column.
#include <string>
#include <vector>

namespace ccbake::recipe {

struct Location {
    std::string file;
    int line = 0;   // 1-based; 0 when unknown
    int column = 0; // 1-based; 0 when unknown
};

struct Diagnostic {
    Location where;
    std::string message;
    std::string note; // optional second line, e.g. "did you mean 'artifacts'?"
};

class Diagnostics {
  public:
    void error(const Location& where, std::string message, std::string note = {});
    bool empty() const { return list_.empty(); }
    size_t size() const { return list_.size(); }
    const std::vector<Diagnostic>& list() const { return list_; }
    // Sorted by file, line, column; each with source line and caret.
    std::string render() const;

  private:
    std::vector<Diagnostic> list_;
};

} // namespace ccbake::recipe
