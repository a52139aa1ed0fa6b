#include "util/console.h"

#include <cstdlib>
#include <cstring>
#include <sys/ioctl.h>
#include <unistd.h>

namespace ccbake::util {

namespace {
size_t terminal_width(std::FILE* out) {
    winsize ws{};
    if (::ioctl(::fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1) return ws.ws_col - 1;
    return 79;
}
} // namespace

Style output_style(bool json, std::FILE* stream) {
    if (json) return Style::Json;
    const char* term = std::getenv("TERM");
    if (::isatty(::fileno(stream)) && !(term && std::strcmp(term, "dumb") == 0)) return Style::Live;
    return Style::Plain;
}

void LiveRegion::print(const std::string& line) {
    erase();
    std::fputs(line.c_str(), out_);
    std::fputc('\n', out_);
    draw();
}

void LiveRegion::show(std::vector<std::string> lines) {
    erase();
    lines_ = std::move(lines);
    draw();
}

void LiveRegion::clear() {
    erase();
    lines_.clear();
    std::fflush(out_);
}

void LiveRegion::erase() {
    for (; drawn_ > 0; --drawn_)
        std::fputs("\033[1A\r\033[2K", out_);
}

void LiveRegion::draw() {
    size_t width = terminal_width(out_);
    for (const auto& line : lines_) {
        // Cut at the width, but never inside a UTF-8 sequence.
        size_t cut = line.size();
        if (cut > width) {
            cut = width;
            while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80)
                --cut;
        }
        std::fwrite(line.data(), 1, cut, out_);
        std::fputc('\n', out_);
        ++drawn_;
    }
    std::fflush(out_);
}

} // namespace ccbake::util
