#include "config/cmdline.h"
#include "config/grub_defaults.h"
#include "test_steps_config_fixture.h"
#include "util/process.h"

#include <doctest/doctest.h>

using ccbake::testing::StepHarness;
using nlohmann::json;
namespace config = ccbake::config;

namespace {

const char* kVendorLine = "console=tty1 console=ttyS0 console=hvc0 iommu=pt noccfilter "
                          "ioremap_force_shared authorize_allow_devs=ALL:ALL";

// Runs the grub-defaults script on the host with the image paths mapped into the scratch root:
// what a chroot would do, without needing one.
void answer_on_host(StepHarness& h) {
    h.target.handler = [&h](const std::vector<std::string>& argv, const ccbake::util::RunOptions&) {
        std::vector<std::string> mapped = argv;
        for (size_t i = 4; i < mapped.size(); ++i)
            mapped[i] = h.root.path(mapped[i]).string();
        return ccbake::util::run(mapped);
    };
}

void ubuntu_like_tree(StepHarness& h) {
    h.root.write(
        "/etc/default/grub",
        "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"\nGRUB_CMDLINE_LINUX=\"\"\n");
    // As Ubuntu cloud images ship it: read after /etc/default/grub, overriding it.
    h.root.write("/etc/default/grub.d/50-cloudimg-settings.cfg",
                 "# Cloud Image specific Grub settings for Generic Cloud Images\n"
                 "GRUB_CMDLINE_LINUX_DEFAULT=\"console=tty1 console=ttyS0\"\nGRUB_TIMEOUT=0\n");
}

json spec(json extra) {
    json s = {{"add", json::array()},
              {"remove", json::array()},
              {"dropin", "99-ccbake.cfg"},
              {"update_grub", false}};
    s.update(extra);
    return s;
}

std::string effective(StepHarness& h) {
    auto files = config::grub_default_files(h.root.dir);
    for (auto& f : files)
        f = h.root.path(f).string();
    return config::parse_grub_eval(
        ccbake::util::run(config::grub_eval_argv(files)).output)["GRUB_CMDLINE_LINUX_DEFAULT"];
}

} // namespace

TEST_CASE("grub defaults: /etc/default/grub first, then grub.d/*.cfg in byte order") {
    ccbake::testing::ScratchRoot r;
    r.write("/etc/default/grub", "");
    r.write("/etc/default/grub.d/99-ccbake.cfg", "");
    r.write("/etc/default/grub.d/50-cloudimg-settings.cfg", "");
    r.write("/etc/default/grub.d/init-select.cfg", "");
    r.write("/etc/default/grub.d/README", "");
    CHECK(config::grub_default_files(r.dir) ==
          std::vector<std::string>{
              "/etc/default/grub", "/etc/default/grub.d/50-cloudimg-settings.cfg",
              "/etc/default/grub.d/99-ccbake.cfg", "/etc/default/grub.d/init-select.cfg"});
}

TEST_CASE("grub drop-in quoting survives /bin/sh") {
    ccbake::testing::ScratchRoot r;
    std::vector<std::string> args = {"a=\"b c\"", "d=$HOME", "e=`x`", "f=\\"};
    r.write("/etc/default/grub.d/99-ccbake.cfg", config::render_grub_dropin(args));
    auto out = ccbake::util::run(
        config::grub_eval_argv({r.path("/etc/default/grub.d/99-ccbake.cfg").string()}));
    CHECK(config::parse_grub_eval(out.output)["GRUB_CMDLINE_LINUX_DEFAULT"] ==
          "a=\"b c\" d=$HOME e=`x` f=\\");
}

TEST_CASE("kernel_cmdline: wins over 50-cloudimg-settings.cfg, keeps its arguments, swiotlb from a "
          "size") {
    StepHarness h;
    answer_on_host(h);
    ubuntu_like_tree(h);
    auto s = spec({{"swiotlb", 4ull << 30},
                   {"add", ccbake::config::split_cmdline(kVendorLine)},
                   {"remove", {"quiet"}}});
    auto r = h.apply("kernel_cmdline", s);
    REQUIRE(r.changes.size() == 1);
    CHECK(effective(h) == std::string(kVendorLine) + " swiotlb=2097152");
    // Re-applying computes the same file: nothing changes, nothing is duplicated.
    CHECK(h.apply("kernel_cmdline", s).changes.empty());
    CHECK(effective(h) == std::string(kVendorLine) + " swiotlb=2097152");
    // A changed size replaces the value.
    s["swiotlb"] = 8ull << 30;
    CHECK(h.apply("kernel_cmdline", s).changes.size() == 1);
    CHECK(effective(h) == std::string(kVendorLine) + " swiotlb=4194304");
}

TEST_CASE("kernel_cmdline: a file sorting after the drop-in that overrides it is named") {
    StepHarness h;
    answer_on_host(h);
    ubuntu_like_tree(h);
    h.root.write("/etc/default/grub.d/zz-late.cfg", "GRUB_CMDLINE_LINUX_DEFAULT=quiet\n");
    CHECK_THROWS_WITH(h.apply("kernel_cmdline", spec({{"add", {"iommu=pt"}}})),
                      doctest::Contains("does not decide the kernel command line"));
}

TEST_CASE("kernel_cmdline: an image without grub is a clear error unless update_grub is false") {
    StepHarness h;
    answer_on_host(h);
    CHECK_THROWS_WITH(
        h.apply("kernel_cmdline", spec({{"add", {"iommu=pt"}}, {"update_grub", true}})),
        doctest::Contains("the image has no grub"));
    CHECK(h.apply("kernel_cmdline", spec({{"add", {"iommu=pt"}}})).changes.size() == 1);
    CHECK(effective(h) == "iommu=pt");
}

TEST_CASE("grub.cfg check: every entry by UUID, arguments on all but recovery entries") {
    const std::string cfg =
        "function load_video {\n  insmod all_video\n}\n"
        "menuentry 'Debian GNU/Linux' --class debian {\n"
        "\tlinux\t/boot/vmlinuz-6.1.0-56-amd64 root=UUID=1234 ro  iommu=pt swiotlb=2097152\n}\n"
        "submenu 'Advanced options for Debian GNU/Linux' {\n"
        "\tmenuentry 'Debian GNU/Linux, with Linux 6.1.0-56-amd64' {\n"
        "\t\tlinux\t/boot/vmlinuz-6.1.0-56-amd64 root=UUID=1234 ro  iommu=pt\n\t}\n"
        "\tmenuentry 'Debian GNU/Linux, with Linux 6.1.0-56-amd64 (recovery mode)' {\n"
        "\t\tlinux\t/boot/vmlinuz-6.1.0-56-amd64 root=/dev/loop0p2 ro single\n\t}\n"
        "}\n";
    auto p = ccbake::config::grub_cfg_problems(cfg, {"iommu=pt", "swiotlb=2097152"}, {"quiet"});
    REQUIRE(p.size() == 3);
    CHECK(p[0] == "line 9 ('Debian GNU/Linux, with Linux 6.1.0-56-amd64') lacks swiotlb=2097152");
    CHECK(p[1].find("root=/dev/loop0p2, not root=UUID=") != std::string::npos);
    CHECK(p[2].find("names a loop device") != std::string::npos);
    CHECK(ccbake::config::grub_cfg_problems("menuentry 'x' {\n}\n", {}, {})
              .front()
              .find("no Linux entry") != std::string::npos);
    CHECK(ccbake::config::grub_cfg_problems(
              "menuentry 'x' {\n linux /vmlinuz root=UUID=1 quiet\n}\n", {}, {"quiet"})
              .front()
              .find("still has quiet") != std::string::npos);
}

TEST_CASE("kernel_cmdline: a swiotlb the image already sets is replaced in place, not repeated") {
    StepHarness h;
    answer_on_host(h);
    h.root.write("/etc/default/grub.d/50-cloudimg-settings.cfg",
                 "GRUB_CMDLINE_LINUX_DEFAULT=\"console=ttyS0 swiotlb=524288 quiet\"\n");
    h.apply("kernel_cmdline", spec({{"swiotlb", 4ull << 30}, {"add", {"console=hvc0"}}}));
    CHECK(effective(h) == "console=ttyS0 swiotlb=2097152 quiet console=hvc0");
}
