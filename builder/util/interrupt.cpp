#include "util/interrupt.h"

#include "util/error.h"

#include <atomic>
#include <csignal>
#include <cstring>

namespace ccbake::util {

namespace {
std::atomic<int> g_signal{0};

void on_signal(int sig) {
    if (g_signal.exchange(sig) != 0) { // second signal: give up at once
        std::signal(sig, SIG_DFL);
        std::raise(sig);
    }
}
} // namespace

void install_interrupt_handlers() {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGHUP, &sa, nullptr);
}

bool interrupted() {
    return g_signal.load() != 0;
}

void throw_if_interrupted() {
    if (interrupted())
        throw Error(g_signal.load() == SIGINT ? "interrupted (Ctrl-C)" : "terminated by a signal",
                    "nothing was published; staged files were removed", kExitInterrupted);
}

} // namespace ccbake::util
