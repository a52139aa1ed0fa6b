#include "archive/deb.h"
#include "archive/extract.h"
#include "util/error.h"
#include "util/process.h"

#include <archive.h>
#include <archive_entry.h>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using ccbake::archive::extract_confined;
using ccbake::archive::ExtractOptions;

namespace {

struct Entry {
    std::string path;
    mode_t type = AE_IFREG;
    std::string content;  // regular files
    std::string link;     // symlink target
    std::string hardlink; // hard link target (type stays AE_IFREG)
    mode_t perm = 0644;
};

// A scratch directory: `dest` is where archives are extracted, `outside` is a sibling that
// hostile entries aim at and that must stay empty.
struct Scratch {
    fs::path dir;
    Scratch() {
        char tmpl[] = "/tmp/ccbake-unit-archive-XXXXXX";
        dir = ::mkdtemp(tmpl);
        fs::create_directories(dir / "outside");
        fs::create_directories(dir / "root");
    }
    ~Scratch() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    fs::path dest() const { return dir / "root/dest"; }
    bool outside_empty() const {
        return fs::is_empty(dir / "outside") && !fs::exists(dir / "root/x");
    }
};

fs::path make_tar(const fs::path& file, const std::vector<Entry>& entries) {
    struct archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_add_filter_gzip(a);
    REQUIRE(archive_write_open_filename(a, file.c_str()) == ARCHIVE_OK);
    for (const auto& en : entries) {
        archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, en.path.c_str());
        archive_entry_set_filetype(e, en.type);
        archive_entry_set_perm(e, en.perm);
        if (en.type == AE_IFLNK) archive_entry_set_symlink(e, en.link.c_str());
        if (!en.hardlink.empty()) archive_entry_set_hardlink(e, en.hardlink.c_str());
        if (en.type == AE_IFCHR) archive_entry_set_rdev(e, makedev(1, 3));
        if (en.type == AE_IFREG && en.hardlink.empty())
            archive_entry_set_size(e, static_cast<la_int64_t>(en.content.size()));
        archive_write_header(a, e);
        if (!en.content.empty()) archive_write_data(a, en.content.data(), en.content.size());
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    return file;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// Extracts and expects a refusal naming `entry`; the destination must not appear.
void expect_refused(const Scratch& s, const fs::path& tar, const std::string& entry,
                    const ExtractOptions& o = {}) {
    CHECK_THROWS_WITH_AS(extract_confined(tar, s.dest(), o), doctest::Contains(entry.c_str()),
                         ccbake::Error);
    CHECK_FALSE(fs::exists(s.dest()));
    CHECK(s.outside_empty());
    for (const auto& e : fs::directory_iterator(s.dest().parent_path())) // no staging left behind
        CHECK(e.path().filename().string().find("ccbake-partial") == std::string::npos);
}

} // namespace

TEST_CASE("a well-formed archive is extracted with strip_components, links and modes") {
    Scratch s;
    auto tar = make_tar(s.dir / "ok.tgz", {
                                              {"top/", AE_IFDIR, "", "", "", 0755},
                                              {"top/pool/a.deb", AE_IFREG, "stand-in"},
                                              {"top/run.sh", AE_IFREG, "#!/bin/sh\n", "", "", 0755},
                                              {"top/latest", AE_IFLNK, "", "pool/a.deb"},
                                              {"top/abs-link", AE_IFLNK, "", "/usr/share/doc"},
                                              {"top/copy.deb", AE_IFREG, "", "", "top/pool/a.deb"},
                                          });
    auto r = extract_confined(tar, s.dest(), ExtractOptions{1});
    CHECK(r.entries == 5);
    CHECK(slurp(s.dest() / "pool/a.deb") == "stand-in");
    CHECK(slurp(s.dest() / "latest") == "stand-in");
    CHECK(fs::read_symlink(s.dest() / "abs-link") == "/usr/share/doc");
    CHECK(fs::hard_link_count(s.dest() / "copy.deb") == 2);
    CHECK((fs::status(s.dest() / "run.sh").permissions() & fs::perms::owner_exec) !=
          fs::perms::none);
    CHECK(s.outside_empty());
}

TEST_CASE("an entry with '..' is refused and nothing is written") {
    Scratch s;
    expect_refused(
        s, make_tar(s.dir / "dotdot.tgz", {{"ok", AE_IFREG, "fine"}, {"../x", AE_IFREG, "evil"}}),
        "../x");
    expect_refused(s, make_tar(s.dir / "deep.tgz", {{"a/../../outside/y", AE_IFREG, "evil"}}),
                   "a/../../outside/y");
}

TEST_CASE("an absolute path is refused, not stripped") {
    Scratch s;
    std::string abs = (s.dir / "outside/abs").string();
    expect_refused(s, make_tar(s.dir / "abs.tgz", {{abs, AE_IFREG, "evil"}}), abs);
    expect_refused(s, make_tar(s.dir / "etc.tgz", {{"/etc/x", AE_IFREG, "evil"}}), "/etc/x");
}

TEST_CASE("a write through a symlink is refused") {
    Scratch s;
    std::string out = (s.dir / "outside").string();
    expect_refused(
        s,
        make_tar(s.dir / "sym.tgz", {{"lnk", AE_IFLNK, "", out}, {"lnk/evil", AE_IFREG, "evil"}}),
        "lnk/evil");
    expect_refused(s,
                   make_tar(s.dir / "rel.tgz", {{"lnk", AE_IFLNK, "", "../../outside"},
                                                {"lnk/evil", AE_IFREG, "evil"}}),
                   "lnk/evil");
    // Replacing the symlink with a file of the same name would let a later link trick apply.
    expect_refused(s,
                   make_tar(s.dir / "replace.tgz",
                            {{"lnk", AE_IFLNK, "", out}, {"lnk", AE_IFDIR, "", "", "", 0755}}),
                   "lnk");
}

TEST_CASE("a refused archive writes nothing, even into a destination that exists") {
    // Every header is checked before the first entry is written: an existing destination
    // (filled in place, not through a staging folder) keeps exactly what it had.
    Scratch s;
    fs::create_directories(s.dest());
    std::ofstream(s.dest() / "kept") << "before";
    std::string out = (s.dir / "outside").string();
    auto tar = make_tar(s.dir / "late.tgz", {{"first", AE_IFREG, "written too early"},
                                             {"lnk", AE_IFLNK, "", out},
                                             {"lnk/evil", AE_IFREG, "evil"}});
    CHECK_THROWS_WITH_AS(extract_confined(tar, s.dest()),
                         "refused entry 'lnk/evil' of late.tgz: writes through the symlink 'lnk'",
                         ccbake::Error);
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(s.dest()))
        names.push_back(e.path().filename().string());
    CHECK(names == std::vector<std::string>{"kept"});
    CHECK(s.outside_empty());
}

TEST_CASE("a symlink already in an existing destination is not followed") {
    Scratch s;
    fs::create_directories(s.dest());
    fs::create_directory_symlink(s.dir / "outside", s.dest() / "lnk");
    auto tar = make_tar(s.dir / "sym.tgz", {{"lnk/evil", AE_IFREG, "evil"}});
    CHECK_THROWS_WITH_AS(extract_confined(tar, s.dest()), doctest::Contains("lnk/evil"),
                         ccbake::Error);
    CHECK(fs::is_empty(s.dir / "outside"));
}

TEST_CASE("a hard link out of the archive is refused") {
    Scratch s;
    expect_refused(s, make_tar(s.dir / "hl-abs.tgz", {{"h", AE_IFREG, "", "", "/etc/passwd"}}),
                   "refused entry 'h' of hl-abs.tgz: absolute hard link target '/etc/passwd'");
    expect_refused(s, make_tar(s.dir / "hl-up.tgz", {{"h", AE_IFREG, "", "", "../outside/f"}}),
                   "refused entry 'h' of hl-up.tgz: '..' in the hard link target '../outside/f'");
    expect_refused(s,
                   make_tar(s.dir / "hl-missing.tgz", {{"h", AE_IFREG, "", "", "not-in-archive"}}),
                   "refused entry 'h' of hl-missing.tgz: hard link to 'not-in-archive', which is "
                   "not in the archive");
}

TEST_CASE("device nodes are refused unless asked for") {
    Scratch s;
    auto tar = make_tar(s.dir / "dev.tgz", {{"dev/null", AE_IFCHR, ""}});
    expect_refused(s, tar, "dev/null");
    if (::geteuid() == 0) {
        ExtractOptions o;
        o.allow_devices = true;
        extract_confined(tar, s.dest(), o);
        CHECK(fs::is_character_file(s.dest() / "dev/null"));
    }
}

TEST_CASE("a file that is not an archive is a clear error") {
    Scratch s;
    std::ofstream(s.dir / "junk.tgz") << "not an archive";
    CHECK_THROWS_WITH_AS(extract_confined(s.dir / "junk.tgz", s.dest()),
                         doctest::Contains("junk.tgz"), ccbake::Error);
    CHECK_FALSE(fs::exists(s.dest()));
}

TEST_CASE("deb_control reads Package and Version from a real .deb") {
    Scratch s;
    fs::create_directories(s.dir / "pkg/DEBIAN");
    std::ofstream(s.dir / "pkg/DEBIAN/control")
        << "Package: libnvidia-nscq-570\nVersion: 570.195.03-1\nArchitecture: amd64\n"
           "Maintainer: stand-in <none@example.invalid>\nDescription: stand-in package\n second "
           "line\n";
    auto r = ccbake::util::run({"dpkg-deb", "--root-owner-group", "-b", (s.dir / "pkg").string(),
                                (s.dir / "p.deb").string()});
    if (r.exit_code != 0) return; // dpkg-deb missing: covered by the integration tests
    auto fields = ccbake::archive::deb_control(s.dir / "p.deb");
    CHECK(fields["Package"] == "libnvidia-nscq-570");
    CHECK(fields["Version"] == "570.195.03-1");
    CHECK(fields["Description"] == "stand-in package\nsecond line");
    CHECK_THROWS_WITH_AS(ccbake::archive::deb_control(s.dir / "pkg/DEBIAN/control"),
                         doctest::Contains("not a Debian package"), ccbake::Error);
}

TEST_CASE("errors name the archive by its label when one is given") {
    Scratch s;
    auto tar = make_tar(s.dir / "0123abcd.tgz", {{"../x", AE_IFREG, "evil"}});
    ExtractOptions o;
    o.label = "artifact sgx_local_repo (0123abcd.tgz)";
    CHECK_THROWS_WITH_AS(
        extract_confined(tar, s.dest(), o),
        "refused entry '../x' of artifact sgx_local_repo (0123abcd.tgz): '..' in the path",
        ccbake::Error);
}
