#include "archive/layer.h"

#include "archive/libarchive.h"
#include "target/in_root.h"
#include "util/error.h"
#include "util/interrupt.h"

#include <archive_entry.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace ccbake::archive {

namespace {

using WritePtr = std::unique_ptr<struct archive, int (*)(struct archive*)>;
using EntryPtr = std::unique_ptr<archive_entry, void (*)(archive_entry*)>;

[[noreturn]] void fail(const std::string& what, const fs::path& layer, const std::string& why) {
    throw Error(fmt::format("layer {}: {}: {}", layer.filename().string(), what, why));
}

void write_data(struct archive* w, const fs::path& host, const std::string& inside,
                const fs::path& out) {
    int fd = ::open(host.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) fail("cannot read " + inside, out, std::strerror(errno));
    char buf[1 << 16];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) {
        if (archive_write_data(w, buf, static_cast<size_t>(n)) < 0) {
            ::close(fd);
            fail("cannot write " + inside, out, error_text(w));
        }
        if (util::interrupted()) { // Ctrl-C: the caller drops the unfinished layer
            ::close(fd);
            util::throw_if_interrupted();
        }
    }
    int err = errno;
    ::close(fd);
    if (n < 0) fail("cannot read " + inside, out, std::strerror(err));
}

} // namespace

void write_layer(const fs::path& root, const std::vector<std::string>& paths, const fs::path& out) {
    WritePtr w(archive_write_new(), archive_write_free);
    archive_write_set_format_pax_restricted(w.get());
    if (archive_write_open_filename(w.get(), out.c_str()) != ARCHIVE_OK)
        fail("cannot create it", out, error_text(w.get()));
    // No user or group lookup: owners stay the image's numbers, never the host's names.
    ReadPtr disk(archive_read_disk_new(), archive_read_free);
    archive_read_disk_set_symlink_physical(disk.get());
    std::unique_ptr<archive_entry_linkresolver, void (*)(archive_entry_linkresolver*)> links(
        archive_entry_linkresolver_new(), archive_entry_linkresolver_free);
    archive_entry_linkresolver_set_strategy(links.get(), archive_format(w.get()));

    auto emit = [&](archive_entry* e) {
        std::string inside = std::string("/") + archive_entry_pathname(e);
        if (archive_write_header(w.get(), e) < ARCHIVE_WARN)
            fail("cannot add " + inside, out, error_text(w.get()));
        if (archive_entry_size(e) > 0)
            write_data(w.get(), archive_entry_sourcepath(e), inside, out);
    };
    for (const auto& inside : paths) {
        const fs::path host = target::resolve_in_root(root, inside, false);
        struct stat st {};
        if (::lstat(host.c_str(), &st) != 0)
            fail("cannot stat " + inside, out, std::strerror(errno));
        EntryPtr e(archive_entry_new(), archive_entry_free);
        archive_entry_copy_sourcepath(e.get(), host.c_str());
        if (archive_read_disk_entry_from_file(disk.get(), e.get(), -1, &st) < ARCHIVE_WARN)
            fail("cannot read " + inside, out, error_text(disk.get()));
        archive_entry_copy_pathname(e.get(), inside == "/" ? "." : inside.c_str() + 1);
        archive_entry* entry = e.release();
        archive_entry* spare = nullptr;
        archive_entry_linkify(links.get(), &entry, &spare);
        if (entry) {
            emit(entry);
            archive_entry_free(entry);
        }
        if (spare) {
            emit(spare);
            archive_entry_free(spare);
        }
    }
    // Hard links whose other names were not among the paths come out last, as plain files.
    archive_entry* entry = nullptr;
    archive_entry* spare = nullptr;
    for (archive_entry_linkify(links.get(), &entry, &spare); entry;
         archive_entry_linkify(links.get(), &entry, &spare)) {
        emit(entry);
        archive_entry_free(entry);
    }
    if (archive_write_close(w.get()) != ARCHIVE_OK)
        fail("cannot finish it", out, error_text(w.get()));
}

std::size_t apply_layer(const fs::path& layer, const fs::path& root) {
    ReadPtr a(archive_read_new(), archive_read_free);
    archive_read_support_format_tar(a.get());
    if (archive_read_open_filename(a.get(), layer.c_str(), 1 << 16) != ARCHIVE_OK)
        fail("cannot open it", layer, error_text(a.get()));
    WritePtr out(archive_write_disk_new(), archive_write_free);
    archive_write_disk_set_options(
        out.get(), ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                       ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_FFLAGS |
                       ARCHIVE_EXTRACT_UNLINK | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                       ARCHIVE_EXTRACT_SECURE_NODOTDOT);
    const std::string prefix = root.string() + "/";
    std::size_t count = 0;
    archive_entry* e = nullptr;
    int rc;
    while ((rc = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
        const std::string rel = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
        if (rel.empty() || rel.front() == '/' || rel == ".." || rel.starts_with("../") ||
            rel.find("/../") != std::string::npos)
            fail("refused entry '" + rel + "'", layer, "not a path inside the root");
        archive_entry_set_pathname(e, (prefix + rel).c_str());
        if (const char* link = archive_entry_hardlink(e))
            archive_entry_set_hardlink(e, (prefix + link).c_str());
        if (archive_write_header(out.get(), e) < ARCHIVE_WARN)
            fail("cannot write /" + rel, layer, error_text(out.get()));
        bool write_failed = false;
        int r = copy_data_blocks(a.get(), out.get(), write_failed);
        if (write_failed) fail("cannot write /" + rel, layer, error_text(out.get()));
        if (r != ARCHIVE_EOF) fail("cannot read /" + rel, layer, error_text(a.get()));
        if (archive_write_finish_entry(out.get()) < ARCHIVE_WARN)
            fail("cannot finish /" + rel, layer, error_text(out.get()));
        ++count;
    }
    if (rc != ARCHIVE_EOF) fail("cannot read it", layer, error_text(a.get()));
    if (archive_write_close(out.get()) != ARCHIVE_OK)
        fail("cannot finish applying it", layer, error_text(out.get()));
    return count;
}

} // namespace ccbake::archive
