// The kernel's compiler, read from CONFIG_CC_VERSION_TEXT as the real headers carry it.
// Texts: Ubuntu's HWE 6.8 kernel logs "x86_64-linux-gnu-gcc-12 (Ubuntu 12.3.0-1ubuntu1~22.04)
// 12.3.0"; Debian 12's 6.1 .config has "gcc-12 (Debian 12.2.0-14) 12.2.0".
#include "steps/install_support.h"

#include <doctest/doctest.h>

using ccbake::steps::install::parse_cc_version_text;

TEST_CASE("the kernel's compiler comes from CONFIG_CC_VERSION_TEXT") {
    auto ubuntu = parse_cc_version_text(
        "#\n# Automatically generated file; DO NOT EDIT.\n"
        "CONFIG_CC_VERSION_TEXT=\"x86_64-linux-gnu-gcc-12 (Ubuntu 12.3.0-1ubuntu1~22.04) 12.3.0\"\n"
        "CONFIG_CC_IS_GCC=y\n");
    CHECK(ubuntu.program == "x86_64-linux-gnu-gcc-12");
    CHECK(ubuntu.package == "gcc-12");
    CHECK(ubuntu.text == "x86_64-linux-gnu-gcc-12 (Ubuntu 12.3.0-1ubuntu1~22.04) 12.3.0");

    auto debian =
        parse_cc_version_text("CONFIG_CC_VERSION_TEXT=\"gcc-12 (Debian 12.2.0-14) 12.2.0\"\n");
    CHECK(debian.program == "gcc-12");
    CHECK(debian.package == "gcc-12");

    // A kernel built with plain `gcc` still needs that major version, by its versioned name.
    auto plain = parse_cc_version_text("CONFIG_CC_VERSION_TEXT=\"gcc (GCC) 13.2.1 20230801\"\n");
    CHECK(plain.program == "gcc-13");
    CHECK(plain.package == "gcc-13");

    auto clang = parse_cc_version_text(
        "CONFIG_CC_VERSION_TEXT=\"Ubuntu clang version 14.0.0-1ubuntu1.1\"\n");
    CHECK(clang.program == "clang-14");

    CHECK(parse_cc_version_text("CONFIG_CC_IS_GCC=y\n").program.empty());
    CHECK(
        parse_cc_version_text("# CONFIG_CC_VERSION_TEXT=\"gcc-12 (x) 12.2.0\"\n").program.empty());
}
