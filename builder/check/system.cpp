#include "check/system.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace ccbake::check {

namespace {

constexpr size_t kMaxOutput = 4 << 20; // keep at most 4 MiB of a tool's output

std::string read_fd(int fd) {
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            out.append(buf, static_cast<size_t>(n));
            if (out.size() > kMaxOutput) break;
        } else if (n < 0 && (errno == EINTR || errno == EPIPE)) {
            continue; // EPIPE: kmsg records were overwritten while reading; go on
        } else {
            break; // 0: end of file; EAGAIN: end of the kernel log
        }
    }
    return out;
}

// The path of an executable, looked up in PATH when `name` has no slash; "" when none.
std::string find_program(const std::string& name) {
    if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0 ? name : "";
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    size_t start = 0;
    while (start <= dirs.size()) {
        size_t end = dirs.find(':', start);
        if (end == std::string::npos) end = dirs.size();
        std::string candidate = dirs.substr(start, end - start) + "/" + name;
        struct stat st {};
        if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
            access(candidate.c_str(), X_OK) == 0)
            return candidate;
        start = end + 1;
    }
    return {};
}

} // namespace

CommandResult run_command(const std::vector<std::string>& argv, int timeout_s,
                          const std::string& cwd) {
    CommandResult r;
    std::string program = argv.empty() ? "" : find_program(argv[0]);
    if (program.empty()) return r;
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) return r;
    pid_t pid = fork();
    if (pid < 0) {
        close(out[0]);
        close(out[1]);
        return r;
    }
    if (pid == 0) {
        setpgid(0, 0);
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        dup2(out[1], 1);
        dup2(out[1], 2);
        if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
        std::vector<char*> args;
        for (const auto& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execv(program.c_str(), args.data());
        _exit(127);
    }
    setpgid(pid, pid);
    close(out[1]);
    r.started = true;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    char buf[8192];
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            r.timed_out = true;
            kill(-pid, SIGKILL);
            break;
        }
        pollfd p{out[0], POLLIN, 0};
        int n = poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
        if (n < 0 && errno != EINTR) break;
        if (n <= 0) continue;
        ssize_t got = ::read(out[0], buf, sizeof buf);
        if (got <= 0) break; // the program (and its children) closed the pipe
        if (r.output.size() < kMaxOutput) r.output.append(buf, static_cast<size_t>(got));
    }
    close(out[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

HostSystem::HostSystem(std::string root) : root_(std::move(root)) {
    while (root_.size() > 1 && root_.back() == '/')
        root_.pop_back();
}

std::string HostSystem::host(const std::string& path) const {
    return root_ == "/" ? path : root_ + path;
}

std::optional<std::string> HostSystem::read(const std::string& path) {
    int fd = open(host(path).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::string out = read_fd(fd);
    close(fd);
    return out;
}

bool HostSystem::exists(const std::string& path) {
    return access(host(path).c_str(), F_OK) == 0;
}

std::vector<std::string> HostSystem::list(const std::string& dir) {
    std::vector<std::string> out;
    DIR* d = opendir(host(dir).c_str());
    if (!d) return out;
    while (dirent* e = readdir(d))
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
            out.emplace_back(e->d_name);
    closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

bool HostSystem::make_dir(const std::string& path) {
    return mkdir(host(path).c_str(), 0700) == 0 || errno == EEXIST;
}

void HostSystem::remove_dir(const std::string& path) {
    rmdir(host(path).c_str());
}

std::string HostSystem::kernel_log() {
    int fd = open(host("/dev/kmsg").c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    std::string log;
    if (fd >= 0) {
        log = read_fd(fd);
        close(fd);
    }
    if (root_ != "/") return log;
    if (log.empty()) log = run_command({"dmesg"}, 30).output;
    // The ring buffer may have wrapped since boot (8 GPUs log a lot): the first record,
    // "Linux version ...", is then gone, and with it the TDX and swiotlb lines. The journal
    // keeps the whole boot's kernel messages.
    if (log.find("Linux version") == std::string::npos) {
        auto journal = run_command({"journalctl", "-k", "-b", "-o", "cat", "--no-pager", "-q"}, 60);
        if (journal.output.find("Linux version") != std::string::npos) log = journal.output;
    }
    return log;
}

CommandResult HostSystem::run(const std::vector<std::string>& argv, int timeout_s,
                              const std::string& cwd) {
    return run_command(argv, timeout_s, cwd);
}

void HostSystem::sleep(int seconds) {
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
}

std::string HostSystem::make_temp_dir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/ccbake-check.XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    return mkdtemp(buf.data()) ? std::string(buf.data()) : std::string();
}

void HostSystem::remove_temp_dir(const std::string& dir) {
    if (DIR* d = opendir(dir.c_str())) {
        while (dirent* e = readdir(d))
            if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
                unlink((dir + "/" + e->d_name).c_str());
        closedir(d);
    }
    rmdir(dir.c_str());
}

} // namespace ccbake::check
