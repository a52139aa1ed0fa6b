#include "target/files.h"

#include "util/error.h"
#include "util/file.h"
#include "util/strings.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace ccbake::target {

namespace {

// Looks NAME (or a number) up in an /etc/passwd-style file of the image: field 0 name, field 2 id.
std::optional<unsigned> lookup_id(const fs::path& root, const std::string& db,
                                  const std::string& name) {
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos)
        return static_cast<unsigned>(std::stoul(name));
    auto text = read_in_root(root, db);
    if (!text) return std::nullopt;
    for (const auto& line : util::split(*text, '\n')) {
        auto f = util::split(line, ':');
        if (f.size() >= 3 && f[0] == name && !f[2].empty() &&
            f[2].find_first_not_of("0123456789") == std::string::npos)
            return static_cast<unsigned>(std::stoul(f[2]));
    }
    return std::nullopt;
}

// Whether the regular file `inside` already holds what `w` asks for, compared in blocks.
bool same_content(const fs::path& root, const std::string& inside, const WantedFile& w) {
    Fd path = open_in_root(root, inside, false);
    if (!path) return false;
    Fd file(::open(path.proc_path().c_str(), O_RDONLY | O_CLOEXEC));
    if (!file) return false;
    std::string have;
    std::string_view want;
    std::string source_bytes;
    if (w.content) {
        want = *w.content;
    } else {
        Fd src(::open(w.source.c_str(), O_RDONLY | O_CLOEXEC));
        if (!src)
            throw Error(fmt::format("cannot read {}: {}", w.source.string(), std::strerror(errno)));
        struct stat a {
        }, b{};
        if (::fstat(file.get(), &a) != 0 || ::fstat(src.get(), &b) != 0 || a.st_size != b.st_size)
            return false;
        bool same = true;
        std::string mine;
        util::read_blocks(src.get(), w.source.string(), [&](std::string_view block) {
            mine.resize(block.size());
            size_t got = 0;
            while (got < block.size()) {
                ssize_t n = ::read(file.get(), mine.data() + got, block.size() - got);
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) break;
                got += static_cast<size_t>(n);
            }
            same = got == block.size() && std::string_view(mine.data(), got) == block;
            return same;
        });
        return same;
    }
    bool same = true;
    util::read_blocks(file.get(), inside, [&](std::string_view block) {
        if (have.size() + block.size() > want.size()) return same = false;
        have.append(block);
        return true;
    });
    return same && have == want;
}

} // namespace

bool exists(const fs::path& root, const std::string& inside) {
    return static_cast<bool>(open_in_root(root, inside, true));
}

bool is_dir(const fs::path& root, const std::string& inside) {
    Fd d = open_in_root(root, inside, true);
    struct stat st {};
    return d && ::fstat(d.get(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string topmost_missing(const fs::path& root, const std::string& inside) {
    std::string missing;
    for (fs::path p = inside; p.has_relative_path() && !exists(root, p.string());
         p = p.parent_path())
        missing = p.string();
    return missing;
}

void remove_tree(const fs::path& root, const std::string& inside) noexcept {
    try {
        std::error_code ec;
        fs::remove_all(resolve_in_root(root, inside), ec);
    } catch (...) {
        // Cleanup after a failure: the step's own error is the one to report.
    }
}

bool write_if_changed(const fs::path& root, const std::string& inside, const std::string& content) {
    if (read_in_root(root, inside) == content) return false;
    write_in_root(root, inside, content, 0644);
    return true;
}

Owner resolve_owner(const fs::path& root, const std::string& user_group) {
    auto parts = util::split(user_group, ':');
    if (parts.size() != 2 || parts[0].empty() || parts[1].empty())
        throw UsageError(fmt::format("'{}' is not USER:GROUP", user_group), "e.g. root:root");
    auto uid = lookup_id(root, "/etc/passwd", parts[0]);
    if (!uid)
        throw Error(
            fmt::format("user '{}' does not exist in the image (its /etc/passwd)", parts[0]),
            "create the user in an earlier step (run: [useradd, --system, ...]) or use a number");
    auto gid = lookup_id(root, "/etc/group", parts[1]);
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

std::vector<std::string> ensure_file(const fs::path& root, const std::string& inside,
                                     const WantedFile& w) {
    std::vector<std::string> changes;
    auto st = lstat_in_root(root, inside);
    if (st && S_ISDIR(st->st_mode))
        throw Error(fmt::format("{} is a directory in the image", inside), "choose a file path");
    if (!st || !S_ISREG(st->st_mode) || !same_content(root, inside, w)) {
        replace_in_root(root, inside, w.mode, [&](util::AtomicFile& f) {
            if (w.content)
                f.write(*w.content);
            else
                f.write_file(w.source);
            if (::fchown(f.fd(), w.owner.uid, w.owner.gid) != 0)
                throw Error(fmt::format("cannot chown {}: {}", inside, std::strerror(errno)));
        });
        changes.push_back(fmt::format("{} {} (mode {:04o}, owner {}:{})", st ? "rewrote" : "wrote",
                                      inside, w.mode, w.owner.uid, w.owner.gid));
        return changes;
    }
    // In place, on the very file (an O_PATH descriptor, never a path resolved again). Owner
    // first: chown clears set-id bits, which the mode may ask for.
    Fd file = open_in_root(root, inside, false);
    if (!file) throw Error(fmt::format("{} vanished from the image while it was checked", inside));
    const mode_t have = st->st_mode & 07777;
    bool chowned = st->st_uid != w.owner.uid || st->st_gid != w.owner.gid;
    if (chowned) {
        if (::fchownat(file.get(), "", w.owner.uid, w.owner.gid, AT_EMPTY_PATH) != 0)
            throw Error(fmt::format("cannot chown {}: {}", inside, std::strerror(errno)));
        changes.push_back(fmt::format("{}: owner {}:{} -> {}:{}", inside, st->st_uid, st->st_gid,
                                      w.owner.uid, w.owner.gid));
    }
    if ((chowned || have != w.mode) && ::chmod(file.proc_path().c_str(), w.mode) != 0)
        throw Error(fmt::format("cannot chmod {}: {}", inside, std::strerror(errno)));
    if (have != w.mode)
        changes.push_back(fmt::format("{}: mode {:04o} -> {:04o}", inside, have, w.mode));
    return changes;
}

} // namespace ccbake::target
