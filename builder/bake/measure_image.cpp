#include "bake/measure_image.h"

#include "bake/readonly_root.h"
#include "image/esp.h"
#include "image/namespace.h"
#include "measure/events.h"
#include "measure/pe.h"
#include "target/in_root.h"
#include "util/digest.h"
#include "util/file.h"
#include "util/strings.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <iostream>
#include <iterator>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;
using nlohmann::json;

namespace ccbake::bake {

namespace {

// `path` under the ESP folder `esp`, each component matched without regard to case (FAT
// names); symlinks are not followed: an ESP has none, and a root's /boot/efi must not lead out.
std::optional<fs::path> esp_path(const fs::path& esp, const std::string& path, bool directory) {
    fs::path at = esp;
    for (const auto& c : fs::path(path).relative_path()) {
        std::optional<fs::path> next;
        std::error_code ec;
        if (!fs::is_directory(fs::symlink_status(at, ec))) return std::nullopt;
        for (const auto& e : fs::directory_iterator(at, ec))
            if (util::to_lower(e.path().filename().string()) == util::to_lower(c.string()))
                next = e.path();
        if (!next) return std::nullopt;
        at = *next;
    }
    std::error_code ec;
    const auto st = fs::symlink_status(at, ec);
    if (directory ? !fs::is_directory(st) : !fs::is_regular_file(st)) return std::nullopt;
    return at;
}

std::string read_or_fail(const fs::path& path, const std::string& what) {
    auto data = util::read_file(path);
    if (!data) throw measure::MeasureError(fmt::format("cannot read {}", what));
    return *data;
}

// The first menu entry's kernel in grub.cfg: the argument of its first linux/linuxefi command.
std::optional<std::string> default_kernel(const std::string& grub_cfg) {
    std::istringstream in(grub_cfg);
    std::string line;
    bool in_entry = false;
    while (std::getline(in, line)) {
        std::istringstream words_in(line);
        std::vector<std::string> words{std::istream_iterator<std::string>(words_in), {}};
        if (words.empty()) continue;
        if (words[0] == "menuentry") in_entry = true;
        if (in_entry && (words[0] == "linux" || words[0] == "linuxefi") && words.size() > 1)
            return words[1];
    }
    return std::nullopt;
}

std::string hex(const std::string& raw) {
    return util::to_hex(reinterpret_cast<const unsigned char*>(raw.data()),
                        static_cast<unsigned int>(raw.size()));
}

} // namespace

namespace {

std::optional<std::string> read_regular(const fs::path& root, const std::string& inside) {
    const auto st = target::lstat_in_root(root, inside);
    if (!st || !S_ISREG(st->st_mode)) return std::nullopt;
    return target::read_in_root(root, inside);
}

// grub's view of the disk: the root and the ESP by partition number and UUID, and the memdisk
// of its image (a FAT image, read with mtools from a scratch copy).
measure::GrubDisk grub_disk(const fs::path& root, const fs::path& esp,
                            const image::DiskLayout& layout, const std::string& loader_dir,
                            const std::string& memdisk) {
    measure::GrubDisk d;
    const int root_part = layout.root.number, esp_part = layout.esp.number;
    d.boot_partition = esp_part;
    d.loader_dir = "/" + loader_dir;
    if (!layout.root_fs.uuid.empty()) d.uuids[util::to_lower(layout.root_fs.uuid)] = root_part;
    if (!layout.esp_fs.uuid.empty()) d.uuids[util::to_lower(layout.esp_fs.uuid)] = esp_part;
    d.read = [=](int part, const std::string& path) -> std::optional<std::string> {
        if (part == root_part) return read_regular(root, path);
        if (part == esp_part)
            if (auto f = esp_path(esp, path, false)) return util::read_file(*f);
        return std::nullopt;
    };
    d.is_dir = [=](int part, const std::string& path) {
        if (part == root_part) {
            const auto st = target::lstat_in_root(root, path);
            return st && S_ISDIR(st->st_mode);
        }
        return part == esp_part && esp_path(esp, path, true).has_value();
    };
    const fs::path scratch = image::private_workspace() / "measure-memdisk";
    d.memdisk = [=](const std::string& path) -> std::optional<std::string> {
        if (memdisk.empty()) return std::nullopt;
        fs::create_directories(scratch);
        util::write_file_atomic(scratch / "memdisk.img", memdisk);
        return image::read_fat_file(scratch / "memdisk.img", 0, path, scratch / "out");
    };
    return d;
}

} // namespace

measure::BootChain
read_boot_chain(const fs::path& root, const fs::path& esp,
                const std::function<std::string(std::uint64_t, std::size_t)>& read_disk,
                const image::DiskLayout& layout) {
    measure::BootChain c;
    c.gpt_event = measure::gpt_event_data(read_disk, layout.table.sector_size);
    // The firmware starts \EFI\BOOT\BOOTX64.EFI. Where shim's fallback sits beside it, that
    // first boot only writes a Boot#### entry from the vendor folder's BOOTX64.CSV and starts
    // it: the boots that follow go through \EFI\<vendor>\shimx64.efi, and so does the prediction.
    std::string loader_dir = "EFI/BOOT", shim_name = "BOOTX64.EFI";
    if (esp_path(esp, "EFI/BOOT/fbx64.efi", false)) {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(esp / "EFI", ec)) {
            const std::string vendor = e.path().filename().string();
            if (util::to_lower(vendor) == "boot") continue;
            if (esp_path(esp, "EFI/" + vendor + "/shimx64.efi", false) &&
                esp_path(esp, "EFI/" + vendor + "/grubx64.efi", false)) {
                loader_dir = "EFI/" + vendor;
                shim_name = "shimx64.efi";
                c.warnings.push_back(fmt::format(
                    "EFI/BOOT/fbx64.efi is on the ESP: a boot without a Boot#### entry for shim "
                    "(the first boot, or every boot of a VM whose UEFI variables do not persist) "
                    "runs fallback first, which measures more; predicted is a boot through the "
                    "entry to {}/shimx64.efi",
                    loader_dir));
                break;
            }
        }
    }
    const auto shim = esp_path(esp, loader_dir + "/" + shim_name, false);
    const auto grub = esp_path(esp, loader_dir + "/grubx64.efi", false);
    if (!shim || !grub)
        throw measure::MeasureError(
            fmt::format("the ESP has no shim and grub boot chain ({}/{} and grubx64.efi beside it)",
                        loader_dir, shim_name),
            "ccbake predicts the measurements of images that boot through shim and grub, as "
            "Ubuntu's cloud images do");
    c.shim_path = loader_dir + "/" + shim_name;
    c.grub_path = loader_dir + "/grubx64.efi";
    c.shim = read_or_fail(*shim, c.shim_path);
    c.grub = read_or_fail(*grub, c.grub_path);
    try {
        const measure::GrubImage image = measure::read_grub_image(c.grub, c.grub_path);
        const measure::GrubDisk disk = grub_disk(root, esp, layout, loader_dir, image.memdisk);
        c.grub_run = [image, disk](bool secure_boot) {
            return measure::run_grub(image, disk, secure_boot);
        };
    } catch (const measure::MeasureError& e) {
        c.warnings.push_back(fmt::format("{}: {}", c.grub_path, e.what()));
    }
    if (auto cfg = target::read_in_root(root, "/boot/grub/grub.cfg")) {
        if (auto kernel = default_kernel(*cfg)) {
            c.kernel_path = *kernel;
            if (auto k = target::read_in_root(root, *kernel)) c.kernel = std::move(*k);
        }
    }
    return c;
}

json prediction_json(const measure::Prediction& p) {
    json events = json::array();
    for (const auto& e : p.events)
        events.push_back({{"rtmr", e.rtmr},
                          {"pcr", e.pcr},
                          {"type", measure::event_type_name(e.type)},
                          {"sha384", hex(e.digest)},
                          {"measures", e.what}});
    return {{"firmware", measure::firmware_name(p.firmware)},
            {"secure_boot", p.secure_boot},
            {"rtmr1", hex(p.rtmr1)},
            {"rtmr2", p.rtmr2.empty() ? json(nullptr) : json(hex(p.rtmr2))},
            {"events", events},
            {"notes", p.notes}};
}

namespace {

std::function<std::string(std::uint64_t, std::size_t)> disk_reader(int fd) {
    return [fd](std::uint64_t offset, std::size_t size) {
        std::string buf(size, '\0');
        const ssize_t n = ::pread(fd, buf.data(), size, static_cast<off_t>(offset));
        buf.resize(n > 0 ? std::size_t(n) : 0);
        return buf;
    };
}

} // namespace

json manifest_measurements(const fs::path& root, const fs::path& esp, int disk_fd,
                           const image::DiskLayout& layout) {
    try {
        const measure::BootChain chain = read_boot_chain(root, esp, disk_reader(disk_fd), layout);
        json predictions = json::array();
        for (bool sb : {false, true}) {
            if (sb && chain.kernel.empty()) continue;
            predictions.push_back(
                prediction_json(measure::predict(chain, measure::Firmware::Tdvf, sb)));
        }
        return {{"predicted", true},
                {"shim", chain.shim_path},
                {"grub", chain.grub_path},
                {"kernel", chain.kernel_path},
                {"predictions", predictions}};
    } catch (const measure::MeasureError& e) {
        return {{"predicted", false}, {"why", e.what()}};
    }
}

namespace {

// A TPM's log as a TD would have logged it: one separator in RTMR1 (TDVF) or none (earlier
// TDVF), and without grub's PCR 8/9 events when grub measures into the TPM only.
std::vector<measure::Event> td_view(const measure::EventLog& log, const measure::Prediction& p,
                                    std::vector<std::string>& dropped) {
    std::vector<measure::Event> out;
    int separators = 0, grub_events = 0;
    for (const auto& e : log.events) {
        if (e.rtmr != 1 && e.rtmr != 2) continue;
        if (!log.td && e.type == measure::kEvSeparator && e.rtmr == 1 &&
            (e.pcr != 4 || p.firmware == measure::Firmware::TdvfEarly)) {
            ++separators;
            continue;
        }
        if (!log.td && !p.grub_measures_td && (e.pcr == 8 || e.pcr == 9) &&
            e.type == measure::kEvIpl) {
            ++grub_events;
            continue;
        }
        out.push_back(e);
    }
    if (separators)
        dropped.push_back(fmt::format("{} separator event(s) of PCRs 2-6 that a TPM firmware logs "
                                      "and {} does not",
                                      separators, measure::firmware_name(p.firmware)));
    if (grub_events)
        dropped.push_back(fmt::format("{} grub event(s) of PCRs 8 and 9: this grub measures into "
                                      "a TPM only",
                                      grub_events));
    return out;
}

// A TPM's log as it is: the events of PCRs 2-6 and 8-15.
std::vector<measure::Event> tpm_registers(const measure::EventLog& log) {
    std::vector<measure::Event> out;
    for (const auto& e : log.events)
        if (e.rtmr == 1 || e.rtmr == 2) out.push_back(e);
    return out;
}

struct Difference {
    int rtmr;
    std::size_t index; // 0-based position in the register's events
    const measure::Event* predicted;
    const measure::Event* logged;
};

std::optional<Difference> first_difference(const std::vector<measure::Event>& predicted,
                                           const std::vector<measure::Event>& logged, int rtmr) {
    std::vector<const measure::Event*> a, b;
    for (const auto& e : predicted)
        if (e.rtmr == rtmr) a.push_back(&e);
    for (const auto& e : logged)
        if (e.rtmr == rtmr) b.push_back(&e);
    for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
        const auto* x = i < a.size() ? a[i] : nullptr;
        const auto* y = i < b.size() ? b[i] : nullptr;
        if (!x || !y || x->digest != y->digest) return Difference{rtmr, i, x, y};
    }
    return std::nullopt;
}

std::string line_of(const measure::Event* e) {
    if (!e) return "(no event)";
    // A menuentry's block spans lines: its first line stands for it.
    const auto newline = e->what.find('\n');
    return fmt::format("PCR {:<2} {:<34} {}  {}", e->pcr, measure::event_type_name(e->type),
                       hex(e->digest).substr(0, 16),
                       newline == std::string::npos ? e->what : e->what.substr(0, newline) + " …}");
}

int against(const MeasureOptions& o, const measure::BootChain& chain) {
    const auto bytes = util::read_file(o.against);
    if (!bytes) throw measure::MeasureError(fmt::format("cannot read {}", o.against.string()));
    const measure::EventLog log = measure::parse_event_log(*bytes, o.against.string());
    // A TPM's log is compared with what OVMF and this grub log into a TPM, unless --firmware
    // asks for a TD's view of it.
    measure::Firmware fw = log.td ? measure::Firmware::Tdvf : measure::Firmware::OvmfTpm;
    if (!o.firmware.empty()) {
        fw = *measure::parse_firmware(o.firmware);
        if (fw == measure::Firmware::OvmfTpm && log.td)
            throw UsageError("--firmware ovmf-tpm describes a TPM's log, and this is a TD's CCEL",
                             "use --firmware tdvf or tdvf-early, or leave it out");
    } else if (log.td) {
        const bool separator = std::any_of(log.events.begin(), log.events.end(), [](const auto& e) {
            return e.rtmr == 1 && e.type == measure::kEvSeparator;
        });
        fw = separator ? measure::Firmware::Tdvf : measure::Firmware::TdvfEarly;
    }
    bool sb = o.secure_boot.value_or(false);
    if (!o.secure_boot) {
        // Secure Boot on: shim measured the kernel, so RTMR1 holds more than two applications.
        const auto apps = std::count_if(log.events.begin(), log.events.end(), [](const auto& e) {
            return e.rtmr == 1 && e.type == measure::kEvEfiBootServicesApplication;
        });
        sb = apps > 2 && !chain.kernel.empty();
    }
    const measure::Prediction p = measure::predict(chain, fw, sb);
    std::vector<std::string> dropped;
    const auto logged =
        fw == measure::Firmware::OvmfTpm ? tpm_registers(log) : td_view(log, p, dropped);
    const std::string r1 = measure::replay(logged, 1), r2 = measure::replay(logged, 2);
    const bool m1 = r1 == p.rtmr1, m2 = p.rtmr2.empty() || r2 == p.rtmr2;
    std::vector<Difference> diffs;
    for (int r : {1, 2}) {
        if (r == 2 && p.rtmr2.empty()) continue;
        if (auto d = first_difference(p.events, logged, r)) diffs.push_back(*d);
    }
    if (o.json) {
        json j = {{"log", o.against.string()},
                  {"log_kind", log.td ? "ccel" : "tpm"},
                  {"prediction", prediction_json(p)},
                  {"log_rtmr1", hex(r1)},
                  {"log_rtmr2", hex(r2)},
                  {"rtmr1_match", m1},
                  {"rtmr2_match", p.rtmr2.empty() ? json(nullptr) : json(m2)},
                  {"left_out_of_the_log", dropped},
                  {"differences", json::array()}};
        for (const auto& d : diffs)
            j["differences"].push_back({{"rtmr", d.rtmr},
                                        {"event", d.index + 1},
                                        {"predicted", line_of(d.predicted)},
                                        {"logged", line_of(d.logged)}});
        std::cout << j.dump(2) << "\n";
    } else {
        std::cout << fmt::format("{} ({}) against the prediction for {}, Secure Boot {}\n",
                                 o.against.string(), log.td ? "a TD's CCEL" : "a TPM's log",
                                 measure::firmware_name(fw), sb ? "on" : "off");
        for (const auto& d : dropped)
            std::cout << "  left out of the log: " << d << "\n";
        std::cout << fmt::format("  RTMR1 {}  {}\n", m1 ? "matches" : "DIFFERS", hex(r1));
        if (p.rtmr2.empty())
            std::cout << "  RTMR2 not predicted (see the notes of `ccbake measure`)\n";
        else
            std::cout << fmt::format("  RTMR2 {}  {}\n", m2 ? "matches" : "DIFFERS", hex(r2));
        for (const auto& d : diffs) {
            std::cout << fmt::format("  first difference in RTMR{}, event {}:\n", d.rtmr,
                                     d.index + 1);
            std::cout << "    predicted  " << line_of(d.predicted) << "\n";
            std::cout << "    logged     " << line_of(d.logged) << "\n";
        }
    }
    return m1 && m2 ? kExitOk : kExitFailed;
}

} // namespace

int measure_command(const MeasureOptions& o) {
    if (!o.firmware.empty() && !measure::parse_firmware(o.firmware))
        throw UsageError(fmt::format("unknown --firmware {}", o.firmware),
                         "one of: tdvf, tdvf-early, ovmf-tpm");
    image::isolate_bake();
    ReadOnlyRoot root(o.image);
    const fs::path esp = image::private_workspace() / "measure-esp";
    fs::create_directories(esp);
    image::copy_esp_files(root.raw(), root.layout().esp, esp);
    const measure::BootChain chain =
        read_boot_chain(root.root(), esp, disk_reader(root.fd()), root.layout());
    if (!o.against.empty()) return against(o, chain);

    const measure::Firmware fw =
        o.firmware.empty() ? measure::Firmware::Tdvf : *measure::parse_firmware(o.firmware);
    const measure::Prediction p = measure::predict(chain, fw, o.secure_boot.value_or(false));
    if (o.json) {
        std::cout << prediction_json(p).dump(2) << "\n";
        return kExitOk;
    }
    std::cout << fmt::format("{}: boots {} then {}; firmware {}, Secure Boot {}\n",
                             o.image.string(), chain.shim_path, chain.grub_path,
                             measure::firmware_name(fw), p.secure_boot ? "on" : "off");
    for (const auto& e : p.events)
        std::cout << fmt::format("  RTMR{} {}\n", e.rtmr, line_of(&e));
    std::cout << fmt::format("RTMR1 {}\n", hex(p.rtmr1));
    std::cout << fmt::format("RTMR2 {}\n", p.rtmr2.empty() ? "not predicted" : hex(p.rtmr2));
    for (const auto& n : p.notes)
        std::cout << "note: " << n << "\n";
    return kExitOk;
}

} // namespace ccbake::bake
