#pragma once
// How ccbake shows what it is doing, decided here for every command:
//   --json         one JSON object per line (each command's own event schema), nothing else;
//   a terminal     lines that update in place at the bottom (LiveRegion);
//   anything else  (CI logs, pipes, `| tee`): plain text, one line per event, with no carriage
//                  return and no escape sequence.
// -v adds detail lines for people; it never changes JSON output.
#include <cstdio>
#include <string>
#include <vector>

namespace ccbake::util {

enum class Style { Json, Live, Plain };

// The style of progress written to `stream`: Json with --json, Live when `stream` is a
// terminal (TERM is not "dumb"), Plain otherwise.
Style output_style(bool json, std::FILE* stream);

// Live lines at the bottom of a terminal, redrawn in place; permanent lines go above them.
// Each live line is cut to the terminal's width, so none wraps and the redraw stays exact.
class LiveRegion {
  public:
    explicit LiveRegion(std::FILE* out) : out_(out) {}
    ~LiveRegion() { clear(); }
    LiveRegion(const LiveRegion&) = delete;
    LiveRegion& operator=(const LiveRegion&) = delete;

    // A permanent line, printed above the live lines.
    void print(const std::string& line);
    // Replaces the live lines.
    void show(std::vector<std::string> lines);
    // Erases the live lines from the screen (and forgets them).
    void clear();

  private:
    void erase();
    void draw();

    std::FILE* out_;
    std::vector<std::string> lines_;
    int drawn_ = 0;
};

} // namespace ccbake::util
