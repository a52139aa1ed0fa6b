#include "archive/extract.h"

#include "archive/libarchive.h"
#include "util/error.h"
#include "util/strings.h"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <memory>
#include <set>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace ccbake::archive {

namespace {

ReadPtr open_archive(const fs::path& file) {
    ReadPtr a(archive_read_new(), archive_read_free);
    archive_read_support_format_all(a.get());
    archive_read_support_filter_all(a.get());
    if (archive_read_open_filename(a.get(), file.c_str(), 64 * 1024) != ARCHIVE_OK)
        throw Error(fmt::format("cannot read archive {}: {}", file.string(), error_text(a.get())),
                    "the file is missing or not an archive libarchive understands");
    return a;
}

[[noreturn]] void refuse(const fs::path& file, const std::string& entry, const std::string& why) {
    throw Error(fmt::format("refused entry '{}' of {}: {}", entry, file.filename().string(), why),
                "the archive is hostile or damaged; nothing was written outside the destination");
}

// Splits `path` (the entry's own path, or its hard link target) into components, refusing
// absolute paths and `..`; "." is dropped. Errors name the entry.
std::vector<std::string> components(const fs::path& file, const std::string& entry,
                                    const std::string& path, const char* what) {
    std::string shown = path == entry ? std::string(what) : fmt::format("{} '{}'", what, path);
    if (path.empty()) refuse(file, entry, fmt::format("empty {}", shown));
    if (path[0] == '/') refuse(file, entry, fmt::format("absolute {}", shown));
    std::vector<std::string> out;
    for (auto& part : util::split(path, '/')) {
        if (part == "..") refuse(file, entry, fmt::format("'..' in the {}", shown));
        if (!part.empty() && part != ".") out.push_back(std::move(part));
    }
    return out;
}

// The entry's path below the destination after stripping, "" when stripped away entirely.
std::string relative(const std::vector<std::string>& parts, unsigned strip) {
    if (parts.size() <= strip) return {};
    return util::join(std::vector<std::string>(parts.begin() + strip, parts.end()), "/");
}

// Refuses a path that passes through (or replaces) a symlink the archive created earlier.
void check_not_through_symlink(const fs::path& file, const std::string& raw, const std::string& rel,
                               const std::set<std::string>& symlinks, bool replace_ok) {
    for (size_t pos = rel.find('/'); pos != std::string::npos; pos = rel.find('/', pos + 1))
        if (symlinks.count(rel.substr(0, pos)))
            refuse(file, raw, fmt::format("writes through the symlink '{}'", rel.substr(0, pos)));
    if (!replace_ok && symlinks.count(rel))
        refuse(file, raw, fmt::format("replaces the symlink '{}'", rel));
}

// Pass 1: reads every header and refuses the archive before anything is written.
void validate(const fs::path& file, const ExtractOptions& options) {
    ReadPtr a = open_archive(file);
    std::set<std::string> symlinks, seen;
    archive_entry* e = nullptr;
    int rc;
    while ((rc = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
        const char* p = archive_entry_pathname(e);
        std::string raw = p ? p : "";
        std::string rel = relative(components(file, raw, raw, "path"), options.strip_components);
        if (const char* link = archive_entry_hardlink(e)) {
            std::string target =
                relative(components(file, raw, link, "hard link target"), options.strip_components);
            if (target.empty() || !seen.count(target))
                refuse(file, raw,
                       fmt::format("hard link to '{}', which is not in the archive", link));
            check_not_through_symlink(file, raw, target, symlinks, true);
            if (rel.empty()) refuse(file, raw, "hard link stripped to nothing");
            check_not_through_symlink(file, raw, rel, symlinks, false);
            seen.insert(rel);
            continue;
        }
        if (rel.empty()) continue;
        check_not_through_symlink(file, raw, rel, symlinks, false);
        switch (archive_entry_filetype(e)) {
        case AE_IFREG:
        case AE_IFDIR:
            break;
        case AE_IFLNK:
            symlinks.insert(rel);
            break;
        case AE_IFCHR:
        case AE_IFBLK:
        case AE_IFIFO:
            if (!options.allow_devices) refuse(file, raw, "device node or FIFO");
            break;
        default:
            refuse(file, raw, "unsupported entry type (socket or unknown)");
        }
        seen.insert(rel);
    }
    if (rc != ARCHIVE_EOF)
        throw Error(fmt::format("cannot read archive {}: {}", file.string(), error_text(a.get())),
                    "the file is truncated or corrupt; fetch it again");
}

// Refuses an on-disk symlink between `root` and the entry (matters when `dest` existed).
void check_disk_parents(const fs::path& file, const std::string& raw, const fs::path& root,
                        const std::string& rel) {
    fs::path cur = root;
    auto parts = util::split(rel, '/');
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
        cur /= parts[i];
        struct stat st {};
        if (::lstat(cur.c_str(), &st) != 0) return; // not there yet: created as a directory
        if (S_ISLNK(st.st_mode))
            refuse(file, raw, fmt::format("writes through the symlink {}", cur.string()));
    }
}

// Pass 2: writes the (already validated) entries below `root`.
size_t write_entries(const fs::path& file, const fs::path& root, const ExtractOptions& options) {
    ReadPtr a = open_archive(file);
    std::unique_ptr<struct archive, int (*)(struct archive*)> out(archive_write_disk_new(),
                                                                  archive_write_free);
    archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                                                  ARCHIVE_EXTRACT_SECURE_NODOTDOT);
    size_t count = 0;
    archive_entry* e = nullptr;
    int rc;
    while ((rc = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
        const char* p = archive_entry_pathname(e);
        std::string raw = p ? p : "";
        std::string rel = relative(components(file, raw, raw, "path"), options.strip_components);
        if (rel.empty()) continue;
        check_disk_parents(file, raw, root, rel);
        archive_entry_set_pathname(e, (root / rel).c_str());
        if (const char* link = archive_entry_hardlink(e))
            archive_entry_set_hardlink(
                e, (root / relative(components(file, raw, link, "hard link target"),
                                    options.strip_components))
                       .c_str());
        archive_entry_set_perm(e, archive_entry_perm(e) & ~static_cast<mode_t>(S_ISUID | S_ISGID));
        if (archive_write_header(out.get(), e) < ARCHIVE_WARN)
            throw Error(fmt::format("cannot extract '{}' from {}: {}", raw,
                                    file.filename().string(), error_text(out.get())));
        bool write_failed = false;
        int r = copy_data_blocks(a.get(), out.get(), write_failed);
        if (write_failed)
            throw Error(fmt::format("cannot write '{}' from {}: {}", raw, file.filename().string(),
                                    error_text(out.get())));
        if (r != ARCHIVE_EOF)
            throw Error(fmt::format("cannot read '{}' from {}: {}", raw, file.filename().string(),
                                    error_text(a.get())),
                        "the archive is truncated or corrupt; fetch it again");
        if (archive_write_finish_entry(out.get()) < ARCHIVE_WARN)
            throw Error(fmt::format("cannot finish '{}' from {}: {}", raw, file.filename().string(),
                                    error_text(out.get())));
        ++count;
    }
    if (rc != ARCHIVE_EOF)
        throw Error(fmt::format("cannot read archive {}: {}", file.string(), error_text(a.get())));
    if (archive_write_close(out.get()) != ARCHIVE_OK)
        throw Error(
            fmt::format("cannot finish extracting {}: {}", file.string(), error_text(out.get())));
    return count;
}

} // namespace

ExtractResult extract_confined(const fs::path& archive, const fs::path& dest,
                               const ExtractOptions& options) {
    if (!options.label.empty()) {
        // Errors name the archive by its label (e.g. the recipe's artifact name).
        try {
            ExtractOptions plain = options;
            plain.label.clear();
            return extract_confined(archive, dest, plain);
        } catch (const Error& e) {
            std::string message = e.what();
            for (const std::string& from : {archive.string(), archive.filename().string()})
                for (size_t pos = 0; (pos = message.find(from, pos)) != std::string::npos;
                     pos += options.label.size())
                    message.replace(pos, from.size(), options.label);
            Error relabelled(message, e.hint(), e.exit_code());
            for (const auto& c : e.context())
                relabelled.add_context(c);
            throw relabelled;
        }
    }
    validate(archive, options);
    if (fs::exists(fs::symlink_status(dest))) {
        if (!fs::is_directory(fs::symlink_status(dest)))
            throw Error(fmt::format("cannot extract {} into {}: not a directory",
                                    archive.filename().string(), dest.string()),
                        "remove it or choose another destination");
        return {write_entries(archive, dest, options)};
    }
    fs::create_directories(dest.parent_path());
    fs::path staging = dest.parent_path() /
                       fmt::format(".{}.ccbake-partial-{}", dest.filename().string(), ::getpid());
    fs::remove_all(staging);
    fs::create_directory(staging);
    try {
        ExtractResult result{write_entries(archive, staging, options)};
        fs::rename(staging, dest);
        return result;
    } catch (...) {
        std::error_code ec;
        fs::remove_all(staging, ec);
        throw;
    }
}

} // namespace ccbake::archive
