// Replays inputs through a fuzz target without libFuzzer, so any build (the sanitizer build
// of the normal test run) checks the regression corpus.
// Each input has 60 seconds (ASan included); one that runs longer kills the replay.
// Usage: ccbake_fuzz_replay TARGET FILE|DIR...   (a folder: every file in it)
//        ccbake_fuzz_replay --list
#include "targets.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

int main(int argc, char** argv) {
    if (argc == 2 && std::string(argv[1]) == "--list") {
        for (const auto& t : ccbake::fuzz::targets())
            std::printf("%-8s %s\n", t.name, t.what);
        return 0;
    }
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s TARGET FILE|DIR... | --list\n", argv[0]);
        return 2;
    }
    const auto* target = ccbake::fuzz::find_target(argv[1]);
    if (!target) {
        std::fprintf(stderr, "no fuzz target named %s (see --list)\n", argv[1]);
        return 2;
    }
    std::vector<fs::path> inputs;
    for (int i = 2; i < argc; ++i) {
        if (fs::is_directory(argv[i])) {
            for (const auto& e : fs::directory_iterator(argv[i]))
                if (e.is_regular_file()) inputs.push_back(e.path());
        } else if (fs::is_regular_file(argv[i])) {
            inputs.push_back(argv[i]);
        } else {
            std::fprintf(stderr, "%s: no such file or folder\n", argv[i]);
            return 2;
        }
    }
    std::sort(inputs.begin(), inputs.end());
    for (const auto& p : inputs) {
        std::ifstream in(p, std::ios::binary);
        std::string data((std::istreambuf_iterator<char>(in)), {});
        std::fprintf(stderr, "replay %s %s (%zu bytes)\n", target->name, p.c_str(), data.size());
        // An input that hangs (as yaml-cpp did on a stray ',') ends the replay with SIGALRM.
        ::alarm(60);
        target->run(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
    }
    std::printf("%s: %zu inputs replayed\n", target->name, inputs.size());
    return 0;
}
