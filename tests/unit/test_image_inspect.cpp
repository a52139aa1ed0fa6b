#include "image/disk.h"
#include "image/inspect.h"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>

using namespace ccbake::image;
namespace fs = std::filesystem;

TEST_CASE("os-release is parsed with its quoting, through a symlink inside the root") {
    OsRelease r = parse_os_release("NAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nID=ubuntu\n# "
                                   "c\nPRETTY_NAME='Ubuntu 22.04.4 LTS'\n");
    CHECK(r.id == "ubuntu");
    CHECK(r.version_id == "22.04");
    CHECK(r.pretty_name == "Ubuntu 22.04.4 LTS");

    fs::path root = fs::temp_directory_path() / "ccbake-test-inspect";
    fs::remove_all(root);
    fs::create_directories(root / "etc");
    fs::create_directories(root / "usr/lib");
    fs::create_directories(root / "boot");
    std::ofstream(root / "usr/lib/os-release") << "ID=debian\nVERSION_ID=\"12\"\n";
    fs::create_symlink("../usr/lib/os-release", root / "etc/os-release");
    auto os = read_os_release(root);
    REQUIRE(os);
    CHECK(os->id == "debian");
    fs::remove_all(root);
}

TEST_CASE("the ESP's mount point comes from the image's fstab") {
    const std::string ubuntu = "LABEL=cloudimg-rootfs / ext4 discard,errors=remount-ro 0 1\n"
                               "LABEL=UEFI /boot/efi vfat umask=0077 0 1\n";
    CHECK(esp_mount_point(ubuntu, "ABCD-0001", "") == "/boot/efi");
    CHECK(esp_mount_point("UUID=abcd-0001 /efi auto defaults 0 2\n", "ABCD-0001", "") == "/efi");
    CHECK(esp_mount_point("# /boot/efi was on /dev/sda1\nUUID=x / ext4 defaults 0 1\n", "ABCD-0001",
                          "") == "");
}
