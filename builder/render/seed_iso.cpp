#include "render/seed_iso.h"

#include "archive/libarchive.h"
#include "util/error.h"
#include "util/file.h"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <fstream>
#include <memory>

namespace ccbake::render {

namespace fs = std::filesystem;

namespace {

using Archive = std::unique_ptr<struct archive, decltype(&archive_write_free)>;
using Entry = std::unique_ptr<struct archive_entry, decltype(&archive_entry_free)>;

void check(struct archive* a, int rc, const std::string& what) {
    if (rc < ARCHIVE_WARN)
        throw Error(fmt::format("cannot write the seed ISO: {}: {}", what, archive::error_text(a)));
}

} // namespace

void write_seed_iso(const fs::path& out, const std::vector<IsoFile>& files,
                    const std::string& volume_id) {
    util::AtomicFile file(out);
    {
        Archive a(archive_write_new(), archive_write_free);
        check(a.get(), archive_write_set_format_iso9660(a.get()), "iso9660 format");
        check(a.get(),
              archive_write_set_format_option(a.get(), "iso9660", "volume-id", volume_id.c_str()),
              "volume-id");
        check(a.get(), archive_write_set_format_option(a.get(), "iso9660", "joliet", "1"),
              "joliet");
        check(a.get(), archive_write_set_format_option(a.get(), "iso9660", "rockridge", "1"),
              "rockridge");
        check(a.get(), archive_write_open_fd(a.get(), file.fd()), out.string());
        for (const auto& f : files) {
            Entry e(archive_entry_new(), archive_entry_free);
            archive_entry_set_pathname(e.get(), f.name.c_str());
            archive_entry_set_filetype(e.get(), AE_IFREG);
            archive_entry_set_perm(e.get(), 0644);
            archive_entry_set_size(e.get(), static_cast<la_int64_t>(f.content.size()));
            archive_entry_set_mtime(e.get(), 0, 0);
            check(a.get(), archive_write_header(a.get(), e.get()), f.name);
            if (archive_write_data(a.get(), f.content.data(), f.content.size()) !=
                static_cast<la_ssize_t>(f.content.size()))
                check(a.get(), ARCHIVE_FATAL, f.name);
        }
        check(a.get(), archive_write_close(a.get()), out.string());
    }
    file.commit();
}

std::string iso_volume_id(const fs::path& iso) {
    // Volume descriptors start at sector 16 (2048-byte sectors): "CD001" at offset 1, the
    // volume identifier (32 bytes) at offset 40. The primary one (type 1) holds upper-case
    // a-characters; a Joliet supplementary one (type 2, escape "%/" at 88) holds the label as
    // UCS-2 big-endian, as blkid and cloud-init see it. Prefer Joliet, like blkid.
    std::ifstream in(iso, std::ios::binary);
    std::string primary, joliet;
    bool any = false;
    for (int sector = 16; sector < 32; ++sector) {
        char d[128] = {};
        in.seekg(sector * 2048);
        if (!in.read(d, sizeof d) || std::string(d + 1, 5) != "CD001") break;
        any = true;
        auto type = static_cast<unsigned char>(d[0]);
        if (type == 255) break;
        if (type == 1) primary.assign(d + 40, 32);
        if (type == 2 && d[88] == '%' && d[89] == '/')
            for (int i = 40; i < 72; i += 2)
                joliet += d[i] == 0 ? d[i + 1] : '?';
    }
    if (!any || primary.empty())
        throw Error(fmt::format("{} is not an ISO 9660 image", iso.string()));
    std::string id = joliet.empty() ? primary : joliet;
    return id.substr(0, id.find_last_not_of(std::string(" \0", 2)) + 1);
}

} // namespace ccbake::render
