#include "target/content.h"

#include "target/walk.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/strings.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <fcntl.h>
#include <fmt/format.h>
#include <map>
#include <mutex>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <thread>
#include <unistd.h>
#include <utility>

namespace fs = std::filesystem;

namespace ccbake::target {

namespace {

char type_of(mode_t m) {
    if (S_ISREG(m)) return 'f';
    if (S_ISDIR(m)) return 'd';
    if (S_ISLNK(m)) return 'l';
    if (S_ISCHR(m)) return 'c';
    if (S_ISBLK(m)) return 'b';
    if (S_ISFIFO(m)) return 'p';
    if (S_ISSOCK(m)) return 's';
    return '?';
}

[[noreturn]] void fail(const std::string& what, const std::string& path, int err) {
    throw Error(fmt::format("cannot {} {} in the image: {}", what, path, std::strerror(err)));
}

std::string capabilities(int fd) {
    unsigned char buf[64];
    ssize_t n = ::fgetxattr(fd, "security.capability", buf, sizeof buf);
    return n > 0 ? util::to_hex(buf, static_cast<unsigned>(n)) : "";
}

// A regular file's bytes are hashed on worker threads (one per CPU, at most 8): the walk opens
// each file (relative to its directory, never through a symlink) and hands the descriptor
// over; at most kQueued descriptors wait at a time.
class Hashers {
  public:
    Hashers() {
        unsigned n = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
        for (unsigned i = 0; i < n; ++i)
            threads_.emplace_back([this] { work(); });
    }
    ~Hashers() { stop(); }

    // Takes ownership of `fd`; fills e.sha256 and e.capabilities later (`e` must stay put).
    void add(ContentEntry& e, int fd) {
        std::unique_lock lock(mu_);
        room_.wait(lock, [&] { return queue_.size() < kQueued || error_; });
        if (error_) {
            ::close(fd);
            return;
        }
        queue_.push_back({&e, fd});
        ready_.notify_one();
    }
    // Waits for every file; rethrows the first error.
    void finish() {
        stop();
        if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    }

  private:
    static constexpr std::size_t kQueued = 256;
    void stop() {
        {
            std::lock_guard lock(mu_);
            done_ = true;
        }
        ready_.notify_all();
        for (auto& t : threads_)
            if (t.joinable()) t.join();
        for (auto& job : queue_)
            ::close(job.second);
        queue_.clear();
    }
    void work() {
        for (;;) {
            std::pair<ContentEntry*, int> job;
            {
                std::unique_lock lock(mu_);
                ready_.wait(lock, [&] { return !queue_.empty() || done_; });
                if (queue_.empty() || error_) return;
                job = queue_.front();
                queue_.pop_front();
            }
            room_.notify_one();
            try {
                job.first->sha256 = util::sha256_fd(job.second, job.first->path + " in the image");
                job.first->capabilities = capabilities(job.second);
            } catch (...) {
                std::lock_guard lock(mu_);
                if (!error_) error_ = std::current_exception();
                room_.notify_all();
            }
            ::close(job.second);
        }
    }
    std::mutex mu_;
    std::condition_variable ready_, room_;
    std::deque<std::pair<ContentEntry*, int>> queue_;
    std::vector<std::thread> threads_;
    std::exception_ptr error_;
    bool done_ = false;
};

void add_entry(const std::string& path, const struct stat& st, int dir_fd, const std::string& name,
               Hashers& hashers, std::deque<ContentEntry>& out) {
    ContentEntry& e = out.emplace_back();
    e.path = path;
    e.type = type_of(st.st_mode);
    e.mode = st.st_mode & 07777;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    if (S_ISREG(st.st_mode)) {
        e.size = static_cast<std::uint64_t>(st.st_size);
        int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
        if (fd < 0 && errno == EPERM)
            fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) fail("read", path, errno);
        hashers.add(e, fd);
    } else if (S_ISLNK(st.st_mode)) {
        char buf[PATH_MAX];
        ssize_t n = ::readlinkat(dir_fd, name.c_str(), buf, sizeof buf);
        if (n < 0) fail("read the link", path, errno);
        e.link.assign(buf, static_cast<size_t>(n));
    }
}

// Bytes outside printable ASCII, spaces and backslashes as \xHH, so a line splits on spaces.
std::string escape(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        if (c <= 0x20 || c >= 0x7f || c == '\\')
            out += fmt::format("\\x{:02x}", c);
        else
            out += static_cast<char>(c);
    }
    return out;
}

std::string unescape(const std::string& s, const std::string& line) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\') {
            out += s[i];
            continue;
        }
        if (i + 3 >= s.size() || s[i + 1] != 'x' || !util::is_hex(s.substr(i + 2, 2)))
            throw Error(fmt::format("content list: bad escape in '{}'", line));
        out += static_cast<char>(std::stoi(s.substr(i + 2, 2), nullptr, 16));
        i += 3;
    }
    return out;
}

} // namespace

std::vector<ContentEntry> list_content(const fs::path& root,
                                       const std::vector<std::string>& excluded) {
    std::deque<ContentEntry> found; // stays put while the hashers fill it in
    {
        Hashers hashers;
        walk_tree(
            root, {.excluded = excluded},
            [&](const std::string& path, const struct stat& st, int dir_fd,
                const std::string& name) { add_entry(path, st, dir_fd, name, hashers, found); });
        hashers.finish();
    }
    std::vector<ContentEntry> entries(std::make_move_iterator(found.begin()),
                                      std::make_move_iterator(found.end()));
    std::sort(entries.begin(), entries.end(),
              [](const ContentEntry& a, const ContentEntry& b) { return a.path < b.path; });
    return entries;
}

std::string content_line(const ContentEntry& e) {
    std::string line = fmt::format("{} {} {:04o} {}:{} {} {}", e.sha256.empty() ? "-" : e.sha256,
                                   e.type, e.mode, e.uid, e.gid, e.size, escape(e.path));
    if (e.type == 'l') line += " -> " + escape(e.link);
    if (!e.capabilities.empty()) line += " cap=" + e.capabilities;
    return line;
}

std::string content_text(const std::vector<ContentEntry>& entries) {
    std::string out;
    for (const auto& e : entries)
        out += content_line(e) + "\n";
    return out;
}

std::string content_digest(const std::vector<ContentEntry>& entries) {
    return util::sha256_hex(content_text(entries));
}

std::vector<ContentEntry> parse_content(const std::string& text) {
    std::vector<ContentEntry> out;
    for (const auto& line : util::split(text, '\n')) {
        if (line.empty()) continue;
        auto f = util::split(line, ' ');
        auto bad = [&] {
            return Error(fmt::format("content list: cannot read the line '{}'", line));
        };
        if (f.size() < 6 || f[1].size() != 1) throw bad();
        ContentEntry e;
        e.sha256 = f[0] == "-" ? "" : f[0];
        e.type = f[1][0];
        auto owner = util::split(f[3], ':');
        if (owner.size() != 2) throw bad();
        try {
            e.mode = static_cast<unsigned>(std::stoul(f[2], nullptr, 8));
            e.uid = static_cast<unsigned>(std::stoul(owner[0]));
            e.gid = static_cast<unsigned>(std::stoul(owner[1]));
            e.size = std::stoull(f[4]);
        } catch (const std::exception&) {
            throw bad();
        }
        e.path = unescape(f[5], line);
        size_t i = 6;
        if (i + 1 < f.size() && f[i] == "->") {
            e.link = unescape(f[i + 1], line);
            i += 2;
        }
        if (i < f.size() && util::starts_with(f[i], "cap=")) e.capabilities = f[i++].substr(4);
        if (i != f.size()) throw bad();
        out.push_back(std::move(e));
    }
    return out;
}

std::vector<ContentChange> compare_content(const std::vector<ContentEntry>& expected,
                                           const std::vector<ContentEntry>& actual) {
    std::map<std::string, const ContentEntry*> want, have;
    for (const auto& e : expected)
        want[e.path] = &e;
    for (const auto& e : actual)
        have[e.path] = &e;
    std::vector<ContentChange> out;
    for (const auto& [path, w] : want) {
        auto it = have.find(path);
        if (it == have.end()) {
            out.push_back({path, "removed"});
            continue;
        }
        const ContentEntry& h = *it->second;
        std::vector<std::string> what;
        if (w->type != h.type) what.push_back(fmt::format("type {} -> {}", w->type, h.type));
        if (w->mode != h.mode)
            what.push_back(fmt::format("mode {:04o} -> {:04o}", w->mode, h.mode));
        if (w->uid != h.uid || w->gid != h.gid)
            what.push_back(fmt::format("owner {}:{} -> {}:{}", w->uid, w->gid, h.uid, h.gid));
        if (w->size != h.size) what.push_back(fmt::format("size {} -> {}", w->size, h.size));
        if (w->sha256 != h.sha256 && w->size == h.size) what.push_back("content");
        if (w->link != h.link) what.push_back(fmt::format("link {} -> {}", w->link, h.link));
        if (w->capabilities != h.capabilities) what.push_back("capabilities");
        if (!what.empty()) out.push_back({path, util::join(what, ", ")});
    }
    for (const auto& [path, h] : have)
        if (!want.count(path)) out.push_back({path, "added"});
    std::sort(out.begin(), out.end(),
              [](const ContentChange& a, const ContentChange& b) { return a.path < b.path; });
    return out;
}

} // namespace ccbake::target
