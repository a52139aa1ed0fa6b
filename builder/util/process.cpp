#include "util/process.h"

#include "util/error.h"
#include "util/interrupt.h"
#include "util/strings.h"

#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <csignal>
#include <fmt/format.h>
#include <fstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace bp = boost::process;

namespace ccbake::util {

std::map<std::string, std::string> clean_environment() {
    return {{"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
            {"LANG", "C.UTF-8"},
            {"LC_ALL", "C.UTF-8"},
            {"DEBIAN_FRONTEND", "noninteractive"},
            {"HOME", "/root"}};
}

std::string file_tail(const std::filesystem::path& file, size_t lines) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return {};
    in.seekg(0, std::ios::end);
    std::streamoff size = in.tellg();
    std::streamoff start = std::max<std::streamoff>(0, size - 64 * 1024);
    in.seekg(start);
    std::string buf(static_cast<size_t>(size - start), '\0');
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    auto all = split(buf, '\n');
    if (!all.empty() && all.back().empty()) all.pop_back();
    if (all.size() > lines) all.erase(all.begin(), all.end() - static_cast<long>(lines));
    return join(all, "\n");
}

namespace {

// Puts the child in its own process group, so the whole tree can be signalled.
struct NewProcessGroup : bp::extend::handler {
    template <typename Executor> void on_exec_setup(Executor&) const { ::setpgid(0, 0); }
};

void stop_group(bp::child& c) {
    pid_t pgid = c.id();
    ::kill(-pgid, SIGTERM);
    for (int i = 0; i < 50 && c.running(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (c.running()) ::kill(-pgid, SIGKILL);
    std::error_code ec;
    c.wait(ec);
}

} // namespace

RunResult run(const std::vector<std::string>& argv, const RunOptions& options) {
    if (argv.empty()) throw Error("internal: empty command");
    std::filesystem::path exe = argv[0];
    if (argv[0].find('/') == std::string::npos) {
        exe = bp::search_path(argv[0]).string();
        if (exe.empty())
            throw Error(fmt::format("cannot run '{}': no such program on PATH", argv[0]),
                        "install the Debian package that provides it");
    }
    std::vector<std::string> args(argv.begin() + 1, argv.end());
    // set(), not operator[]: Boost 1.74's environment lookup (find) compares the key with
    // memcmp past the end of a shorter entry (AddressSanitizer: heap-buffer-overflow).
    bp::environment env;
    for (const auto& [k, v] : (options.env.empty() ? clean_environment() : options.env))
        env.set(k, v);

    std::filesystem::path log = options.log;
    std::filesystem::path temp_log;
    if (log.empty()) {
        char tmpl[] = "/tmp/ccbake-run-XXXXXX";
        int fd = ::mkstemp(tmpl);
        if (fd < 0) throw Error("cannot create a temporary file for command output");
        ::close(fd);
        temp_log = log = tmpl;
    }
    RunResult result;
    {
        // Append: a step's log collects every command it ran.
        FILE* out = std::fopen(log.c_str(), "ab");
        if (!out) throw Error(fmt::format("cannot write the log file {}", log.string()));
        std::error_code ec;
        bp::opstream in;
        bp::child c;
        auto cwd = options.cwd.empty() ? std::filesystem::current_path() : options.cwd;
        if (options.stdin_data)
            c = bp::child(bp::exe = exe.string(), bp::args = args, env,
                          bp::start_dir = cwd.string(), bp::std_out > out, bp::std_err > out,
                          bp::std_in < in, NewProcessGroup{}, ec);
        else
            c = bp::child(bp::exe = exe.string(), bp::args = args, env,
                          bp::start_dir = cwd.string(), bp::std_out > out, bp::std_err > out,
                          bp::std_in < bp::null, NewProcessGroup{}, ec);
        std::fclose(out);
        if (ec) {
            if (!temp_log.empty()) std::filesystem::remove(temp_log);
            throw Error(fmt::format("cannot start {}: {}", exe.string(), ec.message()));
        }
        if (options.stdin_data) {
            in << *options.stdin_data;
            in.flush();
            in.pipe().close();
        }
        auto deadline = std::chrono::steady_clock::now() + options.timeout;
        while (c.running(ec)) {
            if (interrupted()) {
                stop_group(c);
                if (!temp_log.empty()) std::filesystem::remove(temp_log);
                throw_if_interrupted();
            }
            if (options.timeout.count() > 0 && std::chrono::steady_clock::now() > deadline) {
                stop_group(c);
                result.timed_out = true;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        c.wait(ec);
        int status = c.native_exit_code();
        if (result.timed_out)
            result.exit_code = 128 + SIGKILL;
        else if (WIFEXITED(status))
            result.exit_code = WEXITSTATUS(status);
        else if (WIFSIGNALED(status))
            result.exit_code = 128 + WTERMSIG(status);
        else
            result.exit_code = c.exit_code();
    }
    result.tail = file_tail(log);
    if (!temp_log.empty()) {
        std::ifstream in(temp_log, std::ios::binary);
        result.output.assign(std::istreambuf_iterator<char>(in), {});
        std::filesystem::remove(temp_log);
    }
    return result;
}

} // namespace ccbake::util
