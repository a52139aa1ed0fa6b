#include "util/console.h"

#include <cstdio>
#include <cstdlib>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <string>
#include <unistd.h>

using namespace ccbake::util;

namespace {
// Restores TERM when a test case ends.
struct TermGuard {
    std::string saved;
    bool had;
    TermGuard() : had(std::getenv("TERM") != nullptr) {
        if (had) saved = std::getenv("TERM");
    }
    ~TermGuard() {
        if (had)
            ::setenv("TERM", saved.c_str(), 1);
        else
            ::unsetenv("TERM");
    }
};
} // namespace

TEST_CASE("--json, a terminal and a log each get their own style of progress") {
    TermGuard term;
    ::setenv("TERM", "xterm", 1);
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    std::FILE* pipe_end = ::fdopen(fds[1], "w");
    CHECK(output_style(false, pipe_end) == Style::Plain); // CI, `| tee`: plain text
    CHECK(output_style(true, pipe_end) == Style::Json);
    std::fclose(pipe_end);
    ::close(fds[0]);

    int master = ::posix_openpt(O_RDWR | O_NOCTTY);
    REQUIRE(master >= 0);
    REQUIRE(::grantpt(master) == 0);
    REQUIRE(::unlockpt(master) == 0);
    std::FILE* tty = std::fopen(::ptsname(master), "w");
    REQUIRE(tty != nullptr);
    CHECK(output_style(false, tty) == Style::Live);
    CHECK(output_style(true, tty) == Style::Json); // --json wins over a terminal
    ::setenv("TERM", "dumb", 1);
    CHECK(output_style(false, tty) == Style::Plain); // a terminal that cannot move the cursor
    std::fclose(tty);
    ::close(master);
}

TEST_CASE("live lines are cut to the width and erased before permanent lines") {
    std::FILE* f = std::tmpfile();
    REQUIRE(f != nullptr);
    {
        LiveRegion region(f);
        region.show({std::string(500, 'x')});
        region.print("done");
    }
    std::rewind(f);
    std::string text(4096, '\0');
    text.resize(std::fread(text.data(), 1, text.size(), f));
    std::fclose(f);
    CHECK(text.find(std::string(80, 'x')) == std::string::npos); // no line wider than 79
    CHECK(text.find(std::string(79, 'x') + "\n\033[1A\r\033[2Kdone\n") != std::string::npos);
}
