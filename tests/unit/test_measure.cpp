#include "measure/events.h"
#include "measure/grub.h"
#include "measure/pe.h"
#include "measure/predict.h"
#include "util/digest.h"

#include <algorithm>
#include <cstring>
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <map>
#include <string>

using namespace ccbake;
using namespace ccbake::measure;

namespace {

template <class T> void put(std::string& s, std::size_t at, T v) {
    if (s.size() < at + sizeof v) s.resize(at + sizeof v, '\0');
    std::memcpy(s.data() + at, &v, sizeof v);
}

// A PE32+ image: headers (0x200 bytes), .text (0x200 at 0x200), .data (0x100 at 0x400), then
// `cert` bytes of certificate table named by the Security data directory.
std::string make_pe(std::size_t cert = 0x40) {
    std::string f(0x500, '\0');
    f[0] = 'M', f[1] = 'Z';
    put<std::uint32_t>(f, 0x3c, 0x80);
    put<std::uint32_t>(f, 0x80, 0x00004550);
    const std::size_t coff = 0x84, opt = coff + 20;
    put<std::uint16_t>(f, coff + 2, 2);      // sections
    put<std::uint16_t>(f, coff + 16, 0xf0);  // SizeOfOptionalHeader
    put<std::uint16_t>(f, opt, 0x20b);       // PE32+
    put<std::uint32_t>(f, opt + 60, 0x200);  // SizeOfHeaders
    put<std::uint32_t>(f, opt + 64, 0x1234); // CheckSum
    put<std::uint16_t>(f, opt + 68, 10);     // EFI application
    put<std::uint32_t>(f, opt + 108, 16);    // NumberOfRvaAndSizes
    put<std::uint32_t>(f, opt + 112 + 8 * 4, 0x500);
    put<std::uint32_t>(f, opt + 112 + 8 * 4 + 4, static_cast<std::uint32_t>(cert));
    const std::size_t table = opt + 0xf0;
    std::memcpy(f.data() + table, ".text", 5);
    put<std::uint32_t>(f, table + 16, 0x200);
    put<std::uint32_t>(f, table + 20, 0x200);
    std::memcpy(f.data() + table + 40, ".data", 5);
    put<std::uint32_t>(f, table + 40 + 16, 0x100);
    put<std::uint32_t>(f, table + 40 + 20, 0x400);
    for (std::size_t i = 0x200; i < 0x500; ++i)
        f[i] = static_cast<char>(i * 7);
    f += std::string(cert, 'C');
    return f;
}

} // namespace

TEST_CASE("authenticode_sha384 leaves out CheckSum, the certificate entry and the certificates") {
    const std::string pe = make_pe();
    const std::string h = authenticode_sha384(pe, "test.efi");
    CHECK(h.size() == 48);
    // By hand: the ranges the Authenticode specification names.
    const std::size_t checksum = 0x84 + 20 + 64, security = 0x84 + 20 + 112 + 32;
    const std::string want =
        util::sha384(pe.substr(0, checksum) + pe.substr(checksum + 4, security - checksum - 4) +
                     pe.substr(security + 8, 0x200 - security - 8) + pe.substr(0x200, 0x300));
    CHECK(h == want);
    std::string other = pe;
    put<std::uint32_t>(other, checksum, 0xdeadbeef);
    other[other.size() - 1] = 'X'; // in the certificate table
    CHECK(authenticode_sha384(other, "test.efi") == h);
    other[0x300] ^= 1; // in .text
    CHECK(authenticode_sha384(other, "test.efi") != h);
    CHECK(parse_pe(pe, "test.efi").subsystem == 10);
    CHECK(pe_section(pe, ".data", "test.efi")->size() == 0x100);
    CHECK_FALSE(pe_section(pe, ".vendor_cert", "test.efi"));
}

TEST_CASE("data after the sections that is no certificate is hashed") {
    std::string pe = make_pe(0);
    pe += "trailing";
    const std::string h = authenticode_sha384(pe, "t");
    pe.back() = '!';
    CHECK(authenticode_sha384(pe, "t") != h);
}

TEST_CASE("malformed PE images are errors that name the file") {
    CHECK_THROWS_WITH_AS(authenticode_sha384("hello", "x.efi"),
                         doctest::Contains("x.efi is no PE image"), MeasureError);
    std::string pe = make_pe();
    CHECK_THROWS_WITH_AS(authenticode_sha384(pe.substr(0, 0x300), "cut.efi"),
                         doctest::Contains("lies past the end"), MeasureError);
    std::string big_cert = make_pe();
    put<std::uint32_t>(big_cert, 0x84 + 20 + 112 + 36, 0x10000);
    CHECK_THROWS_WITH_AS(authenticode_sha384(big_cert, "c.efi"),
                         doctest::Contains("certificate table"), MeasureError);
}

TEST_CASE("the GPT event: the 92-byte header, a count and the used entries") {
    std::string disk(34 * 512, '\0');
    std::memcpy(disk.data() + 512, "EFI PART", 8);
    put<std::uint64_t>(disk, 512 + 72, 2);
    put<std::uint32_t>(disk, 512 + 80, 4);
    put<std::uint32_t>(disk, 512 + 84, 128);
    disk[1024] = 1;           // entry 1 used
    disk[1024 + 3 * 128] = 2; // entry 4 used
    const auto read = [&](std::uint64_t off, std::size_t n) { return disk.substr(off, n); };
    const std::string ev = gpt_event_data(read, 512);
    REQUIRE(ev.size() == 92 + 8 + 2 * 128);
    CHECK(ev.substr(0, 92) == disk.substr(512, 92));
    std::uint64_t n = 0;
    std::memcpy(&n, ev.data() + 92, 8);
    CHECK(n == 2);
    CHECK(ev.substr(100, 128) == disk.substr(1024, 128));
    CHECK(ev.substr(228, 128) == disk.substr(1024 + 384, 128));
    disk[512] = 'X';
    CHECK_THROWS_AS(gpt_event_data(read, 512), MeasureError);
}

namespace {

// A crypto-agile log: the Spec ID header record, then one record per (index, type, data).
std::string
make_log(bool td,
         const std::vector<std::tuple<std::uint32_t, std::uint32_t, std::string>>& events) {
    std::string spec = std::string("Spec ID Event03") + '\0';
    spec += std::string(8, '\0');
    std::string algs;
    std::uint32_t count = 0;
    if (!td) {
        put<std::uint16_t>(algs, algs.size(), 0x000b);
        put<std::uint16_t>(algs, algs.size(), 32);
        ++count;
    }
    put<std::uint16_t>(algs, algs.size(), 0x000c);
    put<std::uint16_t>(algs, algs.size(), 48);
    ++count;
    put<std::uint32_t>(spec, spec.size(), count);
    spec += algs + '\0';
    std::string log;
    put<std::uint32_t>(log, 0, td ? 1u : 0u);
    put<std::uint32_t>(log, 4, kEvNoAction);
    log += std::string(20, '\0');
    put<std::uint32_t>(log, log.size(), static_cast<std::uint32_t>(spec.size()));
    log += spec;
    for (const auto& [index, type, data] : events) {
        put<std::uint32_t>(log, log.size(), index);
        put<std::uint32_t>(log, log.size(), type);
        put<std::uint32_t>(log, log.size(), td ? 1u : 2u);
        if (!td) {
            put<std::uint16_t>(log, log.size(), 0x000b);
            log += util::sha384(data).substr(0, 32);
        }
        put<std::uint16_t>(log, log.size(), 0x000c);
        log += util::sha384(data);
        put<std::uint32_t>(log, log.size(), static_cast<std::uint32_t>(data.size()));
        log += data;
    }
    return log;
}

} // namespace

TEST_CASE("a TPM's log maps PCRs onto RTMRs; a CCEL's index is the MR index") {
    const std::string call = "Calling EFI Application from Boot Option";
    const EventLog tpm =
        parse_event_log(make_log(false, {{4, kEvEfiAction, call},
                                         {14, kEvIpl, std::string("MokList") + '\0'},
                                         {0, 8, "x"}}),
                        "tpm.log");
    CHECK_FALSE(tpm.td);
    REQUIRE(tpm.events.size() == 3);
    CHECK(tpm.events[0].rtmr == 1);
    CHECK(tpm.events[0].what == call);
    CHECK(tpm.events[1].rtmr == 2);
    CHECK(tpm.events[1].what == "MokList");
    CHECK(tpm.events[2].rtmr == -1);
    CHECK(replay(tpm.events, 1) == util::sha384(std::string(48, '\0') + util::sha384(call)));

    std::string ccel = make_log(true, {{2, kEvEfiAction, call}, {3, kEvIpl, "x"}});
    ccel += std::string(64, '\xff'); // the unused rest of the log area
    const EventLog td = parse_event_log(ccel, "CCEL");
    CHECK(td.td);
    REQUIRE(td.events.size() == 2);
    CHECK(td.events[0].rtmr == 1);
    CHECK(td.events[1].rtmr == 2);
}

TEST_CASE("event logs that cannot be replayed are errors") {
    const std::string log = make_log(false, {{4, kEvEfiAction, "abc"}});
    CHECK_THROWS_WITH_AS(parse_event_log(log.substr(0, log.size() - 2), "cut.log"),
                         doctest::Contains("runs past the end"), MeasureError);
    CHECK_THROWS_WITH_AS(parse_event_log("not a log at all, not at all", "junk"),
                         doctest::Contains("junk"), MeasureError);
    std::string sha256_only = log;
    // The header's second algorithm (SHA-384) renamed to SHA-512: no SHA-384 bank.
    const std::size_t at = sha256_only.find(std::string("\x0c\x00\x30\x00", 4));
    REQUIRE(at != std::string::npos);
    sha256_only[at] = '\x0d';
    CHECK_THROWS_WITH_AS(parse_event_log(sha256_only, "old.log"),
                         doctest::Contains("no SHA-384 bank"), MeasureError);
}

TEST_CASE("firmware names") {
    for (const auto* name : {"tdvf", "tdvf-early", "ovmf-tpm"})
        CHECK(firmware_name(*parse_firmware(name)) == name);
    CHECK_FALSE(parse_firmware("seabios"));
}

namespace {

// A disk of one root partition (2) and an ESP (1), files in maps.
struct FakeDisk {
    std::map<std::string, std::string> root, esp, memdisk;
    GrubDisk disk() const {
        GrubDisk d;
        d.boot_partition = 1;
        d.loader_dir = "/EFI/test";
        d.uuids = {{"1111-2222", 1}, {"root-uuid", 2}};
        d.read = [this](int part, const std::string& path) -> std::optional<std::string> {
            const auto& files = part == 2 ? root : esp;
            auto it = files.find(path);
            if (part > 2 || it == files.end()) return std::nullopt;
            return it->second;
        };
        d.is_dir = [this](int part, const std::string& path) {
            const auto& files = part == 2 ? root : esp;
            for (const auto& [p, _] : files)
                if (p.rfind(path + "/", 0) == 0) return true;
            return false;
        };
        d.memdisk = [this](const std::string& path) -> std::optional<std::string> {
            auto it = memdisk.find(path);
            if (it == memdisk.end()) return std::nullopt;
            return it->second;
        };
        return d;
    }
};

std::vector<std::string> whats(const GrubRun& r) {
    std::vector<std::string> out;
    for (const auto& e : r.events)
        out.push_back(fmt::format("{} {}", e.pcr, e.what));
    return out;
}

} // namespace

TEST_CASE("grub's script: what it runs and opens is measured, in order, after expansion") {
    FakeDisk f;
    f.esp["/EFI/test/grub.cfg"] = "search.fs_uuid root-uuid root hd0,gpt2\n"
                                  "set prefix=($root)'/boot/grub'\n"
                                  "configfile $prefix/grub.cfg\n";
    f.root["/boot/grub/x86_64-efi/command.lst"] = "cmds";
    f.root["/boot/grub/grub.cfg"] =
        "if [ -s $prefix/grubenv ]; then\n  load_env\nfi\n"
        "# a comment\n"
        "function load_video {\n  insmod all_video\n}\n"
        "if [ \"${missing}\" = 1 ] ; then\n  set timeout=9\n"
        "elif [ x$feature_timeout_style = xy ]; then\n"
        "  set timeout=0\nfi\n"
        "menuentry 'Linux A' --class os $menuentry_id_option 'id-a' {\n"
        "\tload_video\n\tlinux\t/vmlinuz root=UUID=x ro  quiet \"a b\"\n"
        "\tinitrd /initrd.img\n}\n"
        "menuentry 'Linux B' {\n\tlinux /other\n}\n";
    f.root["/boot/grub/grubenv"] = "# GRUB Environment Block\nmenuentry_id_option=--id\n";
    f.root["/vmlinuz"] = "KERNEL";
    f.root["/initrd.img"] = "INITRD";
    f.memdisk["/grub.cfg"] = "if [ -e $prefix/grub.cfg ]; then source $prefix/grub.cfg; fi\n";
    GrubImage image;
    image.config = "normal (memdisk)/grub.cfg";
    image.prefix = "/EFI/test";
    image.modules = {"all_video"};
    const GrubRun run = run_grub(image, f.disk(), false);
    const std::vector<std::string> want = {
        "8 grub_cmd: [ -e (hd0,gpt1)/EFI/test/grub.cfg ]",
        "8 grub_cmd: source (hd0,gpt1)/EFI/test/grub.cfg",
        "9 (hd0,gpt1)/EFI/test/grub.cfg",
        "8 grub_cmd: search.fs_uuid root-uuid root hd0,gpt2",
        "8 grub_cmd: set prefix=(hd0,gpt2)/boot/grub",
        "9 (hd0,gpt2)/boot/grub/x86_64-efi/command.lst",
        "8 grub_cmd: configfile (hd0,gpt2)/boot/grub/grub.cfg",
        "9 (hd0,gpt2)/boot/grub/grub.cfg",
        "8 grub_cmd: [ -s (hd0,gpt2)/boot/grub/grubenv ]",
        "8 grub_cmd: load_env",
        "9 (hd0,gpt2)/boot/grub/grubenv",
        "8 grub_cmd: [  = 1 ]",
        "8 grub_cmd: [ xy = xy ]",
        "8 grub_cmd: set timeout=0",
        "8 grub_cmd: menuentry Linux A --class os --id id-a {\n\tload_video\n\tlinux\t/vmlinuz "
        "root=UUID=x ro  quiet \"a b\"\n\tinitrd /initrd.img\n}",
        "8 grub_cmd: menuentry Linux B {\n\tlinux /other\n}",
        "8 grub_cmd: setparams Linux A",
        "8 grub_cmd: load_video",
        "8 grub_cmd: insmod all_video",
        "8 grub_cmd: linux /vmlinuz root=UUID=x ro quiet a b",
        "9 /vmlinuz",
        "8 kernel_cmdline: /vmlinuz root=UUID=x ro quiet \"a b\"",
        "8 grub_cmd: initrd /initrd.img",
        "9 /initrd.img",
    };
    CHECK(whats(run) == want);
    CHECK(run.entry == "Linux A");
    // The digest is of the text without its "grub_cmd: " or "kernel_cmdline: " prefix, and of a
    // file's bytes.
    CHECK(run.events[1].digest == util::sha384("source (hd0,gpt1)/EFI/test/grub.cfg"));
    CHECK(run.events.back().digest == util::sha384("INITRD"));
    CHECK(run.events[21].digest == util::sha384("/vmlinuz root=UUID=x ro quiet \"a b\""));
}

TEST_CASE("grub: the default entry by title, a module from disk, and what cannot be followed") {
    FakeDisk f;
    f.esp["/EFI/test/grub.cfg"] = "set default='Linux B'\nfrobnicate --now\necho $unset ok\n"
                                  "menuentry 'Linux A' {\n\tlinux /a\n}\n"
                                  "menuentry 'Linux B' {\n\tinsmod zstd\n\tlinux /b\n}\n";
    f.esp["/EFI/test/x86_64-efi/zstd.mod"] = "MOD";
    f.esp["/b"] = "B";
    GrubImage image;
    image.prefix = "/EFI/test";
    const GrubRun off = run_grub(image, f.disk(), false);
    CHECK(off.entry == "Linux B");
    const auto w = whats(off);
    CHECK(std::find(w.begin(), w.end(), "9 (hd0,gpt1)/EFI/test/x86_64-efi/zstd.mod") != w.end());
    CHECK(std::find(w.begin(), w.end(), "9 /b") != w.end());
    // An unquoted expansion that is empty is no argument.
    CHECK(std::find(w.begin(), w.end(), "8 grub_cmd: echo ok") != w.end());
    bool noted = false;
    for (const auto& n : off.notes)
        noted = noted || n.find("frobnicate") != std::string::npos;
    CHECK(noted);
    // With Secure Boot, grub refuses modules from disk: nothing is opened.
    const auto on = whats(run_grub(image, f.disk(), true));
    CHECK(std::find(on.begin(), on.end(), "9 (hd0,gpt1)/EFI/test/x86_64-efi/zstd.mod") == on.end());

    FakeDisk broken;
    broken.esp["/EFI/test/grub.cfg"] = "if [ x = x ]; then\n echo 'unterminated\nfi\n";
    CHECK_THROWS_AS(run_grub(image, broken.disk(), false), MeasureError);
    FakeDisk empty;
    empty.esp["/EFI/test/grub.cfg"] = "set timeout=0\n";
    CHECK_THROWS_WITH_AS(run_grub(image, empty.disk(), false), doctest::Contains("no menu entry"),
                         MeasureError);
}
