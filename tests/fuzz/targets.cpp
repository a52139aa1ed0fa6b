#include "targets.h"

#include "archive/deb.h"
#include "archive/extract.h"
#include "config/cmdline.h"
#include "config/grub_defaults.h"
#include "config/jsonc.h"
#include "config/systemd_units.h"
#include "image/gpt.h"
#include "measure/events.h"
#include "measure/pe.h"
#include "recipe/diagnostics.h"
#include "recipe/recipe.h"
#include "steps/step.h"
#include "util/error.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <unistd.h>

namespace fs = std::filesystem;

namespace ccbake::fuzz {
namespace {

[[noreturn]] void broken(const char* what, const std::string& detail) {
    std::fprintf(stderr, "fuzz invariant broken: %s: %s\n", what, detail.c_str());
    std::abort();
}
#define fuzz_assert(cond, detail)                                                                  \
    do {                                                                                           \
        if (!(cond)) broken(#cond, detail);                                                        \
    } while (0)

std::string text_of(const std::uint8_t* data, std::size_t size) {
    return std::string(reinterpret_cast<const char*>(data), size);
}

// One scratch folder per process, on tmpfs when there is one; removed at exit.
const fs::path& scratch() {
    static const fs::path dir = [] {
        fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
        fs::path d = base / ("ccbake-fuzz-" + std::to_string(::getpid()));
        fs::remove_all(d);
        fs::create_directories(d);
        std::atexit([] {
            std::error_code ec;
            fs::remove_all(fs::path("/dev/shm") / ("ccbake-fuzz-" + std::to_string(::getpid())),
                           ec);
            fs::remove_all(
                fs::temp_directory_path() / ("ccbake-fuzz-" + std::to_string(::getpid())), ec);
        });
        return d;
    }();
    return dir;
}

fs::path write_input(const std::string& name, const std::uint8_t* data, std::size_t size) {
    fs::path p = scratch() / name;
    std::ofstream(p, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    return p;
}

// The recipe loader and type checker: the input is a recipe file. Every problem must come
// back as a diagnostic with a location inside the file (or none), and render.
int recipe(const std::uint8_t* data, std::size_t size) {
    fs::path p = write_input("recipe.yaml", data, size);
    recipe::Diagnostics diags;
    try {
        auto r = recipe::load_recipe(p, steps::schemas(), {}, diags);
        (void)r;
    } catch (const Error&) {
        return 0;
    }
    std::string shown = diags.render();
    fuzz_assert(diags.empty() == shown.empty(), shown);
    return 0;
}

// The JSON-with-comments editor: set() of any existing member to a new value must give a
// text that parses to exactly the old data with that one value changed.
int jsonc(const std::uint8_t* data, std::size_t size) {
    std::string text = text_of(data, size);
    std::optional<config::JsoncDocument> doc;
    try {
        doc.emplace(text, "fuzz.json");
    } catch (const Error&) {
        return 0;
    }
    fuzz_assert(doc->text() == text, "parsing changed the text");
    const nlohmann::json before = doc->value();
    if (!before.is_object()) return 0;
    const nlohmann::json flat = before.flatten();
    const nlohmann::json values[] = {"https://pccs.example:8081/sgx/certification/v4/", 7,
                                     nlohmann::json::object({{"k", true}}), nullptr};
    std::size_t i = size;
    for (const auto& [pointer, old] : flat.items()) {
        (void)old;
        nlohmann::json::json_pointer where(pointer);
        if (where.empty()) continue;
        config::JsoncDocument copy = *doc;
        const nlohmann::json& value = values[i++ % std::size(values)];
        try {
            copy.set(where, value);
        } catch (const Error&) {
            continue;
        }
        nlohmann::json expect = before;
        expect[where] = value;
        std::optional<config::JsoncDocument> again;
        try {
            again.emplace(copy.text(), "fuzz.json (edited)");
        } catch (const Error& e) {
            broken("the edited text parses", std::string(e.what()) + "\n" + copy.text());
        }
        fuzz_assert(again->value() == expect, "edit of " + pointer + " gave " + copy.text());
        if (i > size + 8) break; // a handful of edits per input keeps each run fast
    }
    for (const auto& [pointer, v] : flat.items())
        if (v.is_string()) try {
                (void)config::replace_url_host(v.get<std::string>(), "pccs.example:8081");
            } catch (const Error&) {
            }
    return 0;
}

// grub: the drop-in's own output read back, the evaluated defaults, grub.cfg's linux lines.
int grub(const std::uint8_t* data, std::size_t size) {
    std::string text = text_of(data, size);
    auto args = config::split_cmdline(text);
    for (const auto& a : args)
        fuzz_assert(!a.empty(), "an empty argument from split_cmdline");
    (void)config::parse_grub_eval(text);
    for (const auto& e : config::grub_linux_entries(text))
        fuzz_assert(e.line >= 1, "a linux entry without a line number");
    return 0;
}

// systemd: one unit file's text merged as systemd would.
int systemd(const std::uint8_t* data, std::size_t size) {
    config::UnitOrdering u;
    config::apply_unit_text(text_of(data, size), "/etc/systemd/system/fuzz.service", u);
    for (const auto& m : u.misplaced)
        fuzz_assert(m.line >= 1, "a misplaced key without a line number");
    return 0;
}

// GPT and MBR: the input is the start of a disk. Half of the inputs get their GPT checksums
// repaired first, so the fuzzer gets past them to the entries.
void repair_gpt(std::string& disk, std::size_t sector) {
    if (disk.size() < sector + 92 || disk.compare(sector, 8, "EFI PART") != 0) return;
    auto* h = reinterpret_cast<unsigned char*>(&disk[sector]);
    auto le = [](const unsigned char* p, int n) {
        std::uint64_t v = 0;
        for (int i = n - 1; i >= 0; --i)
            v = (v << 8) | p[i];
        return v;
    };
    std::uint64_t lba = le(h + 72, 8), count = le(h + 80, 4), esize = le(h + 84, 4);
    if (count * esize < 1 << 24 && lba < disk.size() / sector &&
        lba * sector + count * esize <= disk.size()) {
        std::uint32_t crc = image::crc32(&disk[lba * sector], count * esize);
        std::memcpy(h + 88, &crc, 4);
    }
    std::uint32_t header_size = static_cast<std::uint32_t>(le(h + 12, 4));
    if (header_size >= 92 && header_size <= 512 && disk.size() >= sector + header_size) {
        std::memset(h + 16, 0, 4);
        std::uint32_t crc = image::crc32(h, header_size);
        std::memcpy(h + 16, &crc, 4);
    }
}

int gpt(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    std::string disk = text_of(data + 1, size - 1);
    if (data[0] & 1) {
        repair_gpt(disk, 512);
        repair_gpt(disk, 4096);
    }
    // The disk is as long as the input, or (second bit) claims to be much longer.
    const std::uint64_t disk_size = (data[0] & 2) ? std::uint64_t{1} << 40 : disk.size();
    image::ReadAt read = [&](std::uint64_t offset, void* buf, std::size_t n) -> std::size_t {
        if (offset >= disk.size()) return 0;
        std::size_t got = std::min<std::uint64_t>(n, disk.size() - offset);
        if (got) std::memcpy(buf, disk.data() + offset, got); // buf may be null when n is 0
        return got;
    };
    auto t = image::read_partition_table(read, disk_size);
    const bool clean = t.kind == image::PartitionTable::Kind::Mbr || t.problem.empty();
    for (const auto& p : t.partitions) {
        if (t.kind == image::PartitionTable::Kind::Mbr)
            fuzz_assert(p.offset < disk_size,
                        "MBR partition " + std::to_string(p.number) + " starts beyond the disk");
        if (t.kind == image::PartitionTable::Kind::Gpt && clean)
            fuzz_assert(p.offset <= disk_size && p.size <= disk_size - p.offset,
                        "partition " + std::to_string(p.number) +
                            " lies beyond the disk, unreported");
    }
    return 0;
}

// .deb: the control fields, from the package file and from control text alone.
int deb(const std::uint8_t* data, std::size_t size) {
    (void)archive::parse_control(text_of(data, size));
    fs::path p = write_input("package.deb", data, size);
    try {
        (void)archive::deb_control(p);
    } catch (const Error&) {
    }
    return 0;
}

// What a folder holds, recursively, but for `skip`: path -> type and content (links: their
// target).
std::map<std::string, std::string> listing(const fs::path& dir, const std::string& skip) {
    std::map<std::string, std::string> out;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
        const auto& e = *it;
        std::string key = fs::relative(e.path(), dir).string();
        if (key == skip) { // what the archive may write, possibly much: not read
            it.disable_recursion_pending();
            continue;
        }
        if (e.is_symlink())
            out[key] = "link " + fs::read_symlink(e.path()).string();
        else if (e.is_regular_file()) {
            std::ifstream in(e.path(), std::ios::binary);
            out[key] = "file " + std::string((std::istreambuf_iterator<char>(in)), {});
        } else
            out[key] = "other";
    }
    return out;
}

// The archive extractor: the input is an archive extracted into dest/ of a scratch tree
// whose other folders (beside and above dest) hold sentinels; after each input nothing
// outside dest/ may have changed, whether the archive was refused or not.
int extract(const std::uint8_t* data, std::size_t size) {
    const fs::path box = scratch() / "box";
    static bool made = false;
    if (!made) {
        fs::create_directories(box / "outside");
        std::ofstream(box / "outside" / "victim") << "sentinel\n";
        std::ofstream(scratch() / "above") << "sentinel\n";
        made = true;
    }
    fs::path archive = write_input("input.archive", data, size);
    const auto before = listing(scratch(), "box/dest");
    archive::ExtractOptions options;
    options.strip_components = size % 3 == 0 ? 1 : 0;
    options.label = "fuzz input";
    std::size_t entries = 0;
    try {
        entries = archive::extract_confined(archive, box / "dest", options).entries;
    } catch (const Error&) {
    }
    (void)entries;
    const auto after = listing(scratch(), "box/dest");
    fuzz_assert(after == before, "something outside dest/ changed");
    std::error_code ec;
    fs::remove_all(box / "dest", ec);
    return 0;
}

// The measured-boot readers: the input as a TCG event log and as a PE image. Both are untrusted
// (a log from a guest, an EFI binary from an image): a bad one is a MeasureError.
int measure(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    try {
        for (const auto& e : measure::parse_event_log(bytes, "log").events)
            fuzz_assert(e.digest.size() == 48, std::to_string(e.digest.size()));
    } catch (const measure::MeasureError&) {
    }
    try {
        fuzz_assert(measure::authenticode_sha384(bytes, "pe").size() == 48, "digest size");
        for (const auto& s : measure::parse_pe(bytes, "pe").sections)
            if (s.raw_size) fuzz_assert(std::uint64_t(s.raw_offset) + s.raw_size <= size, s.name);
    } catch (const measure::MeasureError&) {
    }
    return 0;
}

} // namespace

const std::vector<Target>& targets() {
    static const std::vector<Target> all = {
        {"recipe", "recipe loader and type checker (load_recipe)", recipe},
        {"jsonc", "JSON-with-comments editor (JsoncDocument::set, replace_url_host)", jsonc},
        {"grub", "grub readers (split_cmdline, parse_grub_eval, grub_linux_entries)", grub},
        {"systemd", "systemd unit merge (apply_unit_text)", systemd},
        {"gpt", "GPT/MBR parser (read_partition_table)", gpt},
        {"deb", ".deb control reader (deb_control, parse_control)", deb},
        {"extract", "archive extractor (extract_confined) into a scratch root", extract},
        {"measure", "TCG event log and PE readers (parse_event_log, authenticode_sha384)", measure},
    };
    return all;
}

const Target* find_target(std::string_view name) {
    for (const auto& t : targets())
        if (name == t.name) return &t;
    return nullptr;
}

} // namespace ccbake::fuzz
