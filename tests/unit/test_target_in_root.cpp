// The in-root resolver: an image whose directories are symlinks to host paths (absolute, or
// climbing with `..`) gets every write, link, node and removal inside its root; the host
// folder the links name stays byte for byte as it was.
#include "target/in_root.h"
#include "util/error.h"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace ccbake::target;

namespace {

struct Scratch {
    fs::path base, root, host;
    Scratch() {
        base = fs::temp_directory_path() / ("ccbake-test-inroot-" + std::to_string(::getpid()));
        fs::remove_all(base);
        root = base / "root";
        host = base / "host";
        fs::create_directories(root / "usr/bin");
        fs::create_directories(host / "etc");
        std::ofstream(host / "etc/passwd") << "host's own\n";
        // The image's /etc names the host folder by absolute path, /run climbs out with `..`,
        // and the image keeps the real content where the links land inside it.
        fs::create_symlink(host / "etc", root / "etc");
        fs::create_directories(root / fs::path(host.string()).relative_path() / "etc");
        std::ofstream(root / fs::path(host.string()).relative_path() / "etc/passwd") << "image\n";
        fs::create_symlink("../../../../../../../../" + host.string(), root / "run");
    }
    ~Scratch() { fs::remove_all(base); }
    fs::path inside_host() const { return root / fs::path(host.string()).relative_path(); }
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

} // namespace

TEST_CASE("an absolute symlink to a host folder resolves inside the root") {
    Scratch s;
    CHECK(resolve_in_root(s.root, "/etc/passwd") == s.inside_host() / "etc/passwd");
    CHECK(read_in_root(s.root, "/etc/passwd") == std::optional<std::string>("image\n"));
    write_in_root(s.root, "/etc/resolv.conf", "nameserver 192.0.2.1\n");
    CHECK(slurp(s.inside_host() / "etc/resolv.conf") == "nameserver 192.0.2.1\n");
    CHECK_FALSE(fs::exists(s.host / "etc/resolv.conf"));
    CHECK(slurp(s.host / "etc/passwd") == "host's own\n");
}

TEST_CASE("`..` never climbs out of the root") {
    Scratch s;
    make_dirs_in_root(s.root, "/run/systemd/resolve");
    CHECK(fs::is_directory(s.inside_host() / "systemd/resolve"));
    CHECK_FALSE(fs::exists(s.host / "systemd"));
    CHECK(resolve_in_root(s.root, "/../../etc/passwd") == s.inside_host() / "etc/passwd");
}

TEST_CASE("writes replace a final symlink instead of writing through it") {
    Scratch s;
    fs::create_directories(s.root / "usr/sbin");
    fs::create_symlink(s.host / "etc/passwd", s.root / "usr/sbin/policy-rc.d");
    write_in_root(s.root, "/usr/sbin/policy-rc.d", "#!/bin/sh\nexit 101\n", 0755);
    CHECK(fs::is_regular_file(fs::symlink_status(s.root / "usr/sbin/policy-rc.d")));
    CHECK(slurp(s.host / "etc/passwd") == "host's own\n");
    struct stat st {};
    REQUIRE(::stat((s.root / "usr/sbin/policy-rc.d").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0755);
}

TEST_CASE("links, nodes, renames and removals stay in the root") {
    Scratch s;
    symlink_in_root(s.root, "../../loop0", "/etc/disk/by-uuid/abcd");
    CHECK(fs::read_symlink(s.inside_host() / "etc/disk/by-uuid/abcd") == "../../loop0");
    mknod_in_root(s.root, "/etc/null", S_IFREG | 0600, 0);
    CHECK(fs::is_regular_file(s.inside_host() / "etc/null"));
    rename_in_root(s.root, "/etc/passwd", "/etc/passwd.ccbake-orig");
    CHECK(fs::exists(s.inside_host() / "etc/passwd.ccbake-orig"));
    CHECK(remove_in_root(s.root, "/etc/passwd.ccbake-orig"));
    CHECK_FALSE(remove_in_root(s.root, "/etc/passwd.ccbake-orig"));
    CHECK(slurp(s.host / "etc/passwd") == "host's own\n");
    CHECK(fs::directory_iterator(s.host / "etc") != fs::directory_iterator());
    CHECK(std::distance(fs::directory_iterator(s.host / "etc"), fs::directory_iterator()) == 1);
}

TEST_CASE("a dangling link is followed to its target inside the root") {
    Scratch s;
    // Ubuntu's resolv.conf names a file under /run that exists only while systemd runs.
    fs::create_symlink("/run/systemd/resolve/stub-resolv.conf",
                       s.inside_host() / "etc/resolv.conf");
    CHECK(resolve_in_root(s.root, "/etc/resolv.conf", true) ==
          s.inside_host() / "systemd/resolve/stub-resolv.conf");
    CHECK(resolve_in_root(s.root, "/etc/resolv.conf", false) ==
          s.inside_host() / "etc/resolv.conf");
    CHECK_FALSE(read_in_root(s.root, "/etc/resolv.conf"));
    CHECK_FALSE(open_in_root(s.root, "/etc/resolv.conf", true));
    CHECK(open_in_root(s.root, "/etc/resolv.conf", false));
}

TEST_CASE("a symlink loop is an error, not a hang") {
    Scratch s;
    fs::create_symlink("/b", s.root / "a");
    fs::create_symlink("/a", s.root / "b");
    CHECK_THROWS_AS(make_dirs_in_root(s.root, "/a/x"), ccbake::Error);
    CHECK_THROWS_AS(resolve_in_root(s.root, "/a", true), ccbake::Error);
}
