// ccbake-check: the in-guest checker. Runs the checks the image's /etc/ccbake/check.json asks
// for, prints a table (or --json), optionally writes the JSON report, and exits 0 only when
// every required check passed (1 otherwise, 2 for a bad command line or configuration).
#include "check/checks.h"
#include "check/text.h"
#include "util/error.h"
#include "util/file.h"
#include "version.h"

#include <cstdio>
#include <ctime>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <unistd.h>

namespace {

using namespace ccbake::check;

constexpr const char* kUsage =
    "usage: ccbake-check [--config FILE] [--json] [--write FILE] [--root DIR]\n"
    "  --config FILE  what to check (default /etc/ccbake/check.json; built-in defaults if absent)\n"
    "  --json         print the report as JSON instead of a table\n"
    "  --write FILE   also write the JSON report to FILE (atomically)\n"
    "  --root DIR     read /proc, /sys and /dev files under DIR (a recorded system)\n"
    "exit status: 0 every required check passed, 1 a required check failed, 2 usage or "
    "configuration error\n";

struct Options {
    std::string config = "/etc/ccbake/check.json";
    bool config_given = false;
    bool json = false;
    std::string write;
    std::string root = "/";
};

int usage_error(const std::string& message) {
    std::cerr << "ccbake-check: error: " << message << "\n" << kUsage;
    return 2;
}

std::string now_utc() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

} // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&](std::string& out) {
            if (i + 1 >= argc) return false;
            out = argv[++i];
            return true;
        };
        if (a == "--help" || a == "-h") {
            std::cout << kUsage;
            return 0;
        } else if (a == "--version") {
            std::cout << "ccbake-check " << CCBAKE_VERSION << "\n";
            return 0;
        } else if (a == "--json") {
            o.json = true;
        } else if (a == "--config") {
            if (!value(o.config)) return usage_error("--config needs a file");
            o.config_given = true;
        } else if (a == "--write") {
            if (!value(o.write)) return usage_error("--write needs a file");
        } else if (a == "--root") {
            if (!value(o.root)) return usage_error("--root needs a directory");
        } else {
            return usage_error("unknown argument '" + a + "'");
        }
    }

    Config cfg;
    std::string config_source = "built-in defaults";
    std::ifstream in(o.config);
    if (in) {
        std::stringstream text;
        text << in.rdbuf();
        try {
            cfg = config_from_json(nlohmann::json::parse(text.str()));
            config_source = o.config;
        } catch (const std::exception& e) {
            std::cerr << fmt::format(
                "ccbake-check: error: {}: {}\n  hint: bake the image again; the guest_check "
                "step writes this file\n",
                o.config, e.what());
            return 2;
        }
    } else if (o.config_given) {
        return usage_error("cannot read " + o.config);
    }

    HostSystem sys(o.root);
    Progress progress = [&](const std::string& what) {
        if (!o.json) std::cerr << "ccbake-check: " << what << "\n";
    };
    Report report = run_checks(sys, cfg, progress);

    nlohmann::json meta = {{"tool", "ccbake-check"},
                           {"version", CCBAKE_VERSION},
                           {"time", now_utc()},
                           {"kernel", trim(sys.read("/proc/sys/kernel/osrelease").value_or(""))},
                           {"config", config_source}};
    nlohmann::json doc = report.to_json(meta);
    if (o.json)
        std::cout << doc.dump(2) << "\n";
    else
        std::cout << report.to_table();
    std::cout.flush();
    if (!o.write.empty()) {
        try {
            ccbake::util::write_file_atomic(o.write, doc.dump(2) + "\n");
        } catch (const ccbake::Error& e) {
            std::cerr << "ccbake-check: error: " << e.what() << "\n";
            return 1;
        }
    }
    return report.exit_code();
}
