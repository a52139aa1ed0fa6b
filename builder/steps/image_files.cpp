#include "steps/image_files.h"

#include "util/error.h"
#include "util/strings.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace ccbake::steps {

std::optional<std::string> read_text(const fs::path& host) {
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(host, ec))) return std::nullopt;
    std::ifstream in(host, std::ios::binary);
    if (!in) throw Error(fmt::format("cannot read {}: {}", host.string(), std::strerror(errno)));
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

namespace {

// Looks NAME (or a number) up in an /etc/passwd-style file: field 0 name, field 2 id.
std::optional<unsigned> lookup_id(const fs::path& db, const std::string& name) {
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos)
        return static_cast<unsigned>(std::stoul(name));
    auto text = read_text(db);
    if (!text) return std::nullopt;
    for (const auto& line : util::split(*text, '\n')) {
        auto f = util::split(line, ':');
        if (f.size() >= 3 && f[0] == name && !f[2].empty() &&
            f[2].find_first_not_of("0123456789") == std::string::npos)
            return static_cast<unsigned>(std::stoul(f[2]));
    }
    return std::nullopt;
}

bool same_content(const fs::path& host, const WantedFile& w) {
    std::ifstream a(host, std::ios::binary);
    if (!a) return false;
    if (w.content) {
        std::string have((std::istreambuf_iterator<char>(a)), {});
        return have == *w.content;
    }
    std::ifstream b(w.source, std::ios::binary);
    if (!b) throw Error(fmt::format("cannot read {}", w.source.string()));
    std::vector<char> x(1 << 16), y(1 << 16);
    while (true) {
        a.read(x.data(), static_cast<std::streamsize>(x.size()));
        b.read(y.data(), static_cast<std::streamsize>(y.size()));
        if (a.gcount() != b.gcount()) return false;
        if (a.gcount() == 0) return true;
        if (std::memcmp(x.data(), y.data(), static_cast<size_t>(a.gcount())) != 0) return false;
    }
}

void write_all(int fd, const char* data, size_t size, const fs::path& where) {
    while (size > 0) {
        ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            throw Error(fmt::format("cannot write {}: {}", where.string(), std::strerror(errno)));
        data += n;
        size -= static_cast<size_t>(n);
    }
}

void write_atomically(const fs::path& host, const WantedFile& w) {
    fs::path tmp = host.parent_path() / ("." + host.filename().string() + ".ccbake-new");
    ::unlink(tmp.c_str());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        throw Error(fmt::format("cannot create {}: {}", tmp.string(), std::strerror(errno)));
    try {
        if (w.content) {
            write_all(fd, w.content->data(), w.content->size(), tmp);
        } else {
            std::ifstream in(w.source, std::ios::binary);
            if (!in) throw Error(fmt::format("cannot read {}", w.source.string()));
            std::vector<char> buf(1 << 16);
            while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0)
                write_all(fd, buf.data(), static_cast<size_t>(in.gcount()), tmp);
        }
        if (::fchown(fd, w.owner.uid, w.owner.gid) != 0 || ::fchmod(fd, w.mode) != 0 ||
            ::fsync(fd) != 0)
            throw Error(fmt::format("cannot finish {}: {}", tmp.string(), std::strerror(errno)));
        ::close(fd);
        fd = -1;
        if (::rename(tmp.c_str(), host.c_str()) != 0)
            throw Error(
                fmt::format("cannot rename {} into place: {}", tmp.string(), std::strerror(errno)));
    } catch (...) {
        if (fd >= 0) ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
}

} // namespace

Owner resolve_owner(const fs::path& root, const std::string& user_group) {
    auto parts = util::split(user_group, ':');
    if (parts.size() != 2 || parts[0].empty() || parts[1].empty())
        throw UsageError(fmt::format("'{}' is not USER:GROUP", user_group), "e.g. root:root");
    auto uid = lookup_id(resolve_in_root(root, "/etc/passwd"), parts[0]);
    if (!uid)
        throw Error(
            fmt::format("user '{}' does not exist in the image (its /etc/passwd)", parts[0]),
            "create the user in an earlier step (run: [useradd, --system, ...]) or use a number");
    auto gid = lookup_id(resolve_in_root(root, "/etc/group"), parts[1]);
    if (!gid)
        throw Error(
            fmt::format("group '{}' does not exist in the image (its /etc/group)", parts[1]),
            "create the group in an earlier step (run: [groupadd, --system, ...]) or use a number");
    return {static_cast<uid_t>(*uid), static_cast<gid_t>(*gid)};
}

mode_t parse_mode(const std::string& octal) {
    if (octal.empty() || octal.size() > 4 ||
        octal.find_first_not_of("01234567") != std::string::npos)
        throw UsageError(fmt::format("'{}' is not an octal mode", octal), "e.g. \"0644\"");
    return static_cast<mode_t>(std::stoul(octal, nullptr, 8));
}

std::vector<std::string> ensure_file(const fs::path& host, const std::string& inside,
                                     const WantedFile& w) {
    std::vector<std::string> changes;
    std::error_code ec;
    fs::path dir = host.parent_path();
    if (!fs::is_directory(dir, ec)) {
        fs::create_directories(dir, ec);
        if (ec) throw Error(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
    }
    struct stat st {};
    bool exists = ::lstat(host.c_str(), &st) == 0;
    if (exists && S_ISDIR(st.st_mode))
        throw Error(fmt::format("{} is a directory in the image", inside), "choose a file path");
    if (!exists || !S_ISREG(st.st_mode) || !same_content(host, w)) {
        write_atomically(host, w);
        changes.push_back(fmt::format("{} {} (mode {:04o}, owner {}:{})",
                                      exists ? "rewrote" : "wrote", inside, w.mode, w.owner.uid,
                                      w.owner.gid));
        return changes;
    }
    // Owner first: chown clears set-id bits, which the mode may ask for.
    bool chowned = st.st_uid != w.owner.uid || st.st_gid != w.owner.gid;
    if (chowned) {
        if (::lchown(host.c_str(), w.owner.uid, w.owner.gid) != 0)
            throw Error(fmt::format("cannot chown {}: {}", inside, std::strerror(errno)));
        changes.push_back(fmt::format("{}: owner {}:{} -> {}:{}", inside, st.st_uid, st.st_gid,
                                      w.owner.uid, w.owner.gid));
    }
    if (chowned || (st.st_mode & 07777) != w.mode) {
        if (::chmod(host.c_str(), w.mode) != 0)
            throw Error(fmt::format("cannot chmod {}: {}", inside, std::strerror(errno)));
    }
    if ((st.st_mode & 07777) != w.mode) {
        changes.push_back(
            fmt::format("{}: mode {:04o} -> {:04o}", inside, st.st_mode & 07777, w.mode));
    }
    return changes;
}

bool remove_file(const fs::path& host) {
    std::error_code ec;
    return fs::remove(host, ec);
}

} // namespace ccbake::steps
