#include "util/process.h"

#include <doctest/doctest.h>

using ccbake::util::run;
using ccbake::util::RunOptions;

TEST_CASE("run captures output and exit status, argv only") {
    auto r = run({"sh", "-c", "echo 'a b'; echo err >&2; exit 3"});
    CHECK(r.exit_code == 3);
    CHECK(r.output.find("a b") != std::string::npos);
    CHECK(r.output.find("err") != std::string::npos);
    // An argument with shell syntax is passed as one literal argument.
    auto lit = run({"printf", "%s", "$(echo hi); rm -rf /nonexistent"});
    CHECK(lit.output == "$(echo hi); rm -rf /nonexistent");
}

TEST_CASE("run feeds standard input and uses a clean environment") {
    RunOptions o;
    o.stdin_data = "no\n/opt/intel/\n";
    auto r = run({"cat"}, o);
    CHECK(r.output == "no\n/opt/intel/\n");
    auto env = run({"env"});
    CHECK(env.output.find("LANG=C.UTF-8") != std::string::npos);
    CHECK(env.output.find("DEBIAN_FRONTEND=noninteractive") != std::string::npos);
}

TEST_CASE("run stops a command that exceeds its timeout, with its children") {
    RunOptions o;
    o.timeout = std::chrono::seconds(1);
    auto r = run({"sh", "-c", "sleep 30 & sleep 30"}, o);
    CHECK(r.timed_out);
    CHECK(r.exit_code != 0);
}

TEST_CASE("a missing program is an error that names it") {
    CHECK_THROWS_WITH(run({"no-such-program-ccbake"}), doctest::Contains("no-such-program-ccbake"));
}
