#include "image/namespace.h"

#include "util/error.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <iostream>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ccbake::image {

namespace {

bool g_mount_ns = false;
volatile sig_atomic_t g_worker = 0;

void forward(int sig) {
    if (g_worker > 0) ::kill(static_cast<pid_t>(g_worker), sig);
}

// The parent's whole life after the fork: pass signals on, wait, exit as the worker did.
[[noreturn]] void supervise(pid_t worker) {
    g_worker = worker;
    struct sigaction sa {};
    sa.sa_handler = forward;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP})
        ::sigaction(sig, &sa, nullptr);
    int status = 0;
    while (::waitpid(worker, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) ::_exit(WEXITSTATUS(status));
    ::_exit(128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0));
}

} // namespace

void enter_private_mount_namespace() {
    if (g_mount_ns) return;
    if (::unshare(CLONE_NEWNS) != 0)
        throw Error(
            fmt::format("cannot create a private mount namespace: {}", std::strerror(errno)),
            "baking needs root (or CAP_SYS_ADMIN); run ccbake as root");
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        throw Error(fmt::format("cannot make mounts private: {}", std::strerror(errno)));
    g_mount_ns = true;
}

void isolate_bake() {
    if (!g_mount_ns && ::unshare(CLONE_NEWPID) == 0) {
        std::cout.flush();
        std::cerr.flush();
        std::fflush(nullptr);
        pid_t pid = ::fork();
        if (pid < 0)
            throw Error(
                fmt::format("cannot start the bake's worker process: {}", std::strerror(errno)));
        if (pid > 0) supervise(pid);
        // The worker: PID 1 of the new namespace, in its own process group so a terminal's
        // Ctrl-C reaches it once, through the parent.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        ::setpgid(0, 0);
        enter_private_mount_namespace();
        // /proc of the new namespace, so /proc/PID paths of the worker's files resolve.
        if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
            throw Error(fmt::format("cannot mount /proc for the bake: {}", std::strerror(errno)));
    }
    enter_private_mount_namespace();
}

std::filesystem::path private_workspace() {
    static std::filesystem::path ws;
    if (!ws.empty()) return ws;
    enter_private_mount_namespace();
    std::filesystem::path dir = "/run/ccbake";
    std::filesystem::create_directories(dir);
    if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") != 0)
        throw Error(fmt::format("cannot mount a private tmpfs on {}: {}", dir.string(),
                                std::strerror(errno)));
    ws = dir;
    return ws;
}

} // namespace ccbake::image
