#include "measure/predict.h"

#include "measure/pe.h"
#include "util/digest.h"

#include <cstring>
#include <fmt/format.h>

namespace ccbake::measure {

namespace {

// GUIDs as stored (little-endian first three fields).
// EFI_CC_MEASUREMENT_PROTOCOL_GUID 96751a3d-72f4-41a6-a794-ed5d0e67ae6b (UEFI 2.10).
constexpr unsigned char kCcProtocolGuid[16] = {0x3d, 0x1a, 0x75, 0x96, 0xf4, 0x72, 0xa6, 0x41,
                                               0xa7, 0x94, 0xed, 0x5d, 0x0e, 0x67, 0xae, 0x6b};
// SHIM_LOCK_GUID 605dab50-e046-4300-abb6-3dd810dd8b23, the owner shim gives its entries.
constexpr unsigned char kShimLockGuid[16] = {0x50, 0xab, 0x5d, 0x60, 0x46, 0xe0, 0x00, 0x43,
                                             0xab, 0xb6, 0x3d, 0xd8, 0x10, 0xdd, 0x8b, 0x23};
// EFI_CERT_X509_GUID a5c059a1-94e4-4aa7-87b5-ab155c2bf072.
constexpr unsigned char kCertX509Guid[16] = {0xa1, 0x59, 0xc0, 0xa5, 0xe4, 0x94, 0xa7, 0x4a,
                                             0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72};
// EFI_CERT_SHA256_GUID c1c41626-504c-4092-aca9-41f936934328.
constexpr unsigned char kCertSha256Guid[16] = {0x26, 0x16, 0xc4, 0xc1, 0x4c, 0x50, 0x92, 0x40,
                                               0xac, 0xa9, 0x41, 0xf9, 0x36, 0x93, 0x43, 0x28};

std::string bytes(const unsigned char* b, std::size_t n) {
    return std::string(reinterpret_cast<const char*>(b), n);
}
template <class T> std::string le(T v) {
    std::string s(sizeof v, '\0');
    std::memcpy(s.data(), &v, sizeof v);
    return s;
}
template <class T> T get(std::string_view s, std::size_t at) {
    return read_le<T>(s, at).value_or(0);
}

// An EFI_SIGNATURE_LIST with one entry owned by shim (its fill_esl_with_one_signature).
std::string one_signature_list(const unsigned char* type, const std::string& data) {
    const auto entry = std::uint32_t(16 + data.size());
    return bytes(type, 16) + le<std::uint32_t>(28 + entry) + le<std::uint32_t>(0) + le(entry) +
           bytes(kShimLockGuid, 16) + data;
}

Event event(int pcr, std::uint32_t type, std::string digest, std::string what) {
    Event e;
    e.pcr = pcr;
    e.rtmr = rtmr_of_pcr(pcr).value_or(-1);
    e.type = type;
    e.digest = std::move(digest);
    e.what = std::move(what);
    return e;
}
Event action(int pcr, const std::string& text) {
    return event(pcr, kEvEfiAction, util::sha384(text), text);
}
// shim's tpm_log_event: EV_IPL, the digest of the variable's data, the name as event data.
Event shim_variable(const std::string& name, const std::string& data) {
    return event(14, kEvIpl, util::sha384(data), name);
}

bool contains(const std::string& haystack, std::string_view needle) {
    return haystack.find(needle) != std::string::npos;
}

} // namespace

std::optional<Firmware> parse_firmware(const std::string& name) {
    if (name == "tdvf") return Firmware::Tdvf;
    if (name == "tdvf-early") return Firmware::TdvfEarly;
    if (name == "ovmf-tpm") return Firmware::OvmfTpm;
    return std::nullopt;
}
std::string firmware_name(Firmware f) {
    switch (f) {
    case Firmware::Tdvf:
        return "tdvf";
    case Firmware::TdvfEarly:
        return "tdvf-early";
    case Firmware::OvmfTpm:
        return "ovmf-tpm";
    }
    return "?";
}

std::string gpt_event_data(const std::function<std::string(std::uint64_t, std::size_t)>& read,
                           std::uint32_t sector) {
    const std::string header = read(sector, 92);
    if (header.size() < 92 || header.compare(0, 8, "EFI PART") != 0)
        throw MeasureError("the disk has no GPT header at LBA 1",
                           "the firmware measures the GPT of the disk it boots from");
    const auto entries_lba = get<std::uint64_t>(header, 72);
    const auto count = get<std::uint32_t>(header, 80);
    const auto entry_size = get<std::uint32_t>(header, 84);
    if (entry_size < 128 || entry_size > 4096 || count > 1024)
        throw MeasureError(
            fmt::format("the GPT header is damaged: {} entries of {} bytes", count, entry_size));
    const std::string table = read(entries_lba * sector, std::size_t(count) * entry_size);
    if (table.size() != std::size_t(count) * entry_size)
        throw MeasureError("the GPT's partition entries lie past the end of the disk");
    std::string used;
    std::uint64_t n = 0;
    for (std::uint32_t i = 0; i < count; ++i) {
        std::string_view entry =
            std::string_view(table).substr(std::size_t(i) * entry_size, entry_size);
        if (entry.substr(0, 16).find_first_not_of('\0') == std::string_view::npos) continue;
        used += entry;
        ++n;
    }
    return header + le<std::uint64_t>(n) + used;
}

Prediction predict(const BootChain& chain, Firmware firmware, bool secure_boot) {
    Prediction p;
    p.firmware = firmware;
    p.secure_boot = secure_boot;
    auto& ev = p.events;
    // The firmware's ready-to-boot, before it loads the boot option.
    ev.push_back(action(4, "Calling EFI Application from Boot Option"));
    const std::string separator = util::sha384(std::string(4, '\0'));
    if (firmware == Firmware::Tdvf) ev.push_back(event(4, kEvSeparator, separator, "separator"));
    if (firmware == Firmware::OvmfTpm)
        for (int pcr = 2; pcr <= 6; ++pcr)
            ev.push_back(
                event(pcr, kEvSeparator, separator, fmt::format("separator (PCR {})", pcr)));
    ev.push_back(event(5, kEvEfiGptEvent, util::sha384(chain.gpt_event),
                       "the GPT: header and partition entries"));
    ev.push_back(event(4, kEvEfiBootServicesApplication,
                       authenticode_sha384(chain.shim, chain.shim_path), chain.shim_path));

    // shim's MOK state, mirrored and measured before it loads grub (mok.c, import_mok_state).
    const auto certs = pe_section(chain.shim, ".vendor_cert", chain.shim_path);
    if (!certs || certs->size() < 16)
        throw MeasureError(
            fmt::format("{} has no .vendor_cert section: is it shim?", chain.shim_path));
    const auto field = [&](std::size_t at) { return get<std::uint32_t>(*certs, at); };
    const std::uint32_t db_size = field(0), dbx_size = field(4), db_at = field(8),
                        dbx_at = field(12);
    if (std::uint64_t(db_at) + db_size > certs->size() ||
        std::uint64_t(dbx_at) + dbx_size > certs->size())
        throw MeasureError(
            fmt::format("{}: its .vendor_cert table points past the section", chain.shim_path));
    const std::string db(certs->substr(db_at, db_size)), dbx(certs->substr(dbx_at, dbx_size));
    // A DER certificate (a SEQUENCE) is wrapped in a signature list; a vendor_db is one already.
    if (!db.empty())
        ev.push_back(shim_variable("MokList", static_cast<unsigned char>(db[0]) == 0x30
                                                  ? one_signature_list(kCertX509Guid, db)
                                                  : db));
    ev.push_back(shim_variable(
        "MokListX",
        !dbx.empty() ? dbx : one_signature_list(kCertSha256Guid, std::string(32, '\0'))));
    ev.push_back(shim_variable("MokListTrusted", std::string(1, '\1')));

    ev.push_back(event(4, kEvEfiBootServicesApplication,
                       authenticode_sha384(chain.grub, chain.grub_path), chain.grub_path));
    p.grub_measures_td =
        contains(chain.grub, std::string_view(reinterpret_cast<const char*>(kCcProtocolGuid), 16));
    // grub's own events: into a TPM when it has the tpm module (its "grub_cmd: " prefix), into
    // a TD only when it has EFI_CC_MEASUREMENT_PROTOCOL.
    const bool grub_logs =
        firmware == Firmware::OvmfTpm ? contains(chain.grub, "grub_cmd: ") : p.grub_measures_td;
    bool rtmr2_known = true;
    if (grub_logs) {
        try {
            if (!chain.grub_run) throw MeasureError("grub's files could not be read");
            GrubRun run = chain.grub_run(secure_boot);
            p.notes.push_back(
                fmt::format("{} boots the entry \"{}\" and measures {} commands and "
                            "files into {}",
                            chain.grub_path, run.entry, run.events.size(),
                            firmware == Firmware::OvmfTpm ? "PCRs 8 and 9" : "RTMR2"));
            for (auto& e : run.events)
                ev.push_back(std::move(e));
            for (auto& n : run.notes)
                p.notes.push_back(std::move(n));
        } catch (const MeasureError& e) {
            rtmr2_known = false;
            p.notes.push_back(fmt::format("RTMR2 is not predicted: {} measures its script, and "
                                          "ccbake could not follow it: {}",
                                          chain.grub_path, e.what()));
        }
    } else {
        p.notes.push_back(fmt::format(
            "{} has no EFI_CC_MEASUREMENT_PROTOCOL: in a TD it measures nothing, so the kernel "
            "command line, grub.cfg, the kernel and the initrd are in no RTMR",
            chain.grub_path));
    }
    if (secure_boot) {
        // grub's shim_lock verifier (registered with Secure Boot on) asks shim to verify the
        // kernel, and shim measures what it verifies; Debian's linuxefi asks a second time.
        if (chain.kernel.empty())
            throw MeasureError("the default boot entry's kernel was not found",
                               "with Secure Boot on, shim measures the kernel into RTMR1");
        const std::string k = authenticode_sha384(chain.kernel, chain.kernel_path);
        ev.push_back(event(4, kEvEfiBootServicesApplication, k, chain.kernel_path));
        if (contains(chain.grub, "Asking shim to verify kernel signature")) {
            ev.push_back(
                event(4, kEvEfiBootServicesApplication, k, chain.kernel_path + " (again)"));
            p.notes.push_back("grub's linuxefi asks shim to verify the kernel a second time: the "
                              "kernel is measured twice");
        }
    }
    ev.push_back(action(5, "Exit Boot Services Invocation"));
    ev.push_back(action(5, "Exit Boot Services Returned with Success"));
    p.rtmr1 = replay(ev, 1);
    if (rtmr2_known) p.rtmr2 = replay(ev, 2);
    for (const auto& w : chain.warnings)
        p.notes.push_back(w);
    return p;
}

} // namespace ccbake::measure
