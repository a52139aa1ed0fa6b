#include "image/namespace.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fmt/format.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/error.h"

namespace ccbake::image {

namespace {

bool g_entered = false;

// PID 1 of the bake's PID namespace: reaps orphans, ignores terminal signals, and is killed
// by the kernel when ccbake dies — which kills every process left in the namespace.
// (Its parent lies outside its PID namespace, so getppid() reads 0: no race check is possible
// there; the parent is alive while it forks.)
[[noreturn]] void keeper() {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::signal(SIGINT, SIG_IGN);
    ::signal(SIGTERM, SIG_IGN);
    ::signal(SIGHUP, SIG_IGN);
    ::setpgid(0, 0);
    for (;;) {
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {}
        ::sleep(1);
    }
}

void start_pid_namespace() {
    if (::unshare(CLONE_NEWPID) != 0) return;  // not permitted here: commands still run, unguarded
    pid_t pid = ::fork();
    if (pid == 0) keeper();
    if (pid < 0) throw Error(fmt::format("cannot start the bake's process keeper: {}", std::strerror(errno)));
}

}  // namespace

void enter_private_mount_namespace() {
    if (g_entered) return;
    if (::unshare(CLONE_NEWNS) != 0)
        throw Error(fmt::format("cannot create a private mount namespace: {}", std::strerror(errno)),
                    "baking needs root (or CAP_SYS_ADMIN); run ccbake as root");
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        throw Error(fmt::format("cannot make mounts private: {}", std::strerror(errno)));
    start_pid_namespace();
    g_entered = true;
}

std::filesystem::path private_workspace() {
    static std::filesystem::path ws;
    if (!ws.empty()) return ws;
    enter_private_mount_namespace();
    std::filesystem::path dir = "/run/ccbake";
    std::filesystem::create_directories(dir);
    if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") != 0)
        throw Error(fmt::format("cannot mount a private tmpfs on {}: {}", dir.string(), std::strerror(errno)));
    ws = dir;
    return ws;
}

}  // namespace ccbake::image
