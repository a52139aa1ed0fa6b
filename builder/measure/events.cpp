#include "measure/events.h"

#include "measure/pe.h"
#include "util/digest.h"

#include <cstring>
#include <fmt/format.h>
#include <map>

namespace ccbake::measure {

std::string event_type_name(std::uint32_t type) {
    static const std::map<std::uint32_t, const char*> names = {
        {0x1, "EV_POST_CODE"},
        {kEvNoAction, "EV_NO_ACTION"},
        {kEvSeparator, "EV_SEPARATOR"},
        {0x5, "EV_ACTION"},
        {kEvIpl, "EV_IPL"},
        {0x80000001, "EV_EFI_VARIABLE_DRIVER_CONFIG"},
        {0x80000002, "EV_EFI_VARIABLE_BOOT"},
        {kEvEfiBootServicesApplication, "EV_EFI_BOOT_SERVICES_APPLICATION"},
        {0x80000004, "EV_EFI_BOOT_SERVICES_DRIVER"},
        {0x80000005, "EV_EFI_RUNTIME_SERVICES_DRIVER"},
        {kEvEfiGptEvent, "EV_EFI_GPT_EVENT"},
        {kEvEfiAction, "EV_EFI_ACTION"},
        {0x80000008, "EV_EFI_PLATFORM_FIRMWARE_BLOB"},
        {0x80000009, "EV_EFI_HANDOFF_TABLES"},
        {0x8000000a, "EV_EFI_PLATFORM_FIRMWARE_BLOB2"},
        {0x8000000b, "EV_EFI_HANDOFF_TABLES2"},
        {0x800000e0, "EV_EFI_VARIABLE_AUTHORITY"},
    };
    auto it = names.find(type);
    return it != names.end() ? it->second : fmt::format("{:#010x}", type);
}

std::optional<int> rtmr_of_pcr(int pcr) {
    if (pcr == 1 || pcr == 7) return 0;
    if (pcr >= 2 && pcr <= 6) return 1;
    if (pcr >= 8 && pcr <= 15) return 2;
    return std::nullopt;
}

std::string replay(const std::vector<Event>& events, int rtmr) {
    std::string reg(48, '\0');
    for (const Event& e : events)
        if (e.rtmr == rtmr) reg = util::sha384(reg + e.digest);
    return reg;
}

namespace {

constexpr std::uint16_t kAlgSha384 = 0x000c;

struct Cursor {
    std::string_view bytes;
    const std::string& what;
    std::size_t at = 0;
    std::string_view take(std::size_t n, const char* field) {
        if (bytes.size() - at < n)
            throw MeasureError(fmt::format("{}: {} at byte {} runs past the end of the log ({} "
                                           "bytes)",
                                           what, field, at, bytes.size()));
        std::string_view v = bytes.substr(at, n);
        at += n;
        return v;
    }
    template <class T> T get(const char* field) {
        T v;
        std::memcpy(&v, take(sizeof v, field).data(), sizeof v);
        return v;
    }
};

// What an event's data says, for people: the text of actions and of shim's and grub's EV_IPL
// events; the event type otherwise.
std::string describe(std::uint32_t type, std::string_view data) {
    if (type == kEvEfiAction || type == kEvIpl || type == 0x5) {
        std::string s(data.substr(0, data.find('\0')));
        for (char& c : s)
            if (static_cast<unsigned char>(c) < 0x20 && c != '\n') c = '?';
        return s;
    }
    if (type == kEvSeparator) return "separator";
    if (type == kEvEfiGptEvent) return "the GPT: header and partition entries";
    if (type == kEvEfiBootServicesApplication) return "an EFI application (Authenticode)";
    return event_type_name(type);
}

} // namespace

EventLog parse_event_log(std::string_view bytes, const std::string& what) {
    Cursor c{bytes, what};
    EventLog log;
    const std::uint32_t first_index = c.get<std::uint32_t>("the first record's index");
    if (c.get<std::uint32_t>("the first record's type") != kEvNoAction)
        throw MeasureError(fmt::format("{} is no TCG event log: its first record is not "
                                       "EV_NO_ACTION",
                                       what));
    c.take(20, "the first record's digest");
    const auto size = c.get<std::uint32_t>("the first record's size");
    Cursor spec{c.take(size, "the Spec ID event"), what};
    if (spec.take(16, "the Spec ID signature").substr(0, 15) != "Spec ID Event03")
        throw MeasureError(fmt::format("{} is no crypto-agile TCG event log (no \"Spec ID "
                                       "Event03\")",
                                       what),
                           "a SHA-1-only log (TPM 1.2) holds no SHA-384 digests");
    spec.take(8, "the Spec ID platform and version");
    const auto count = spec.get<std::uint32_t>("the number of algorithms");
    std::map<std::uint16_t, std::uint16_t> sizes;
    for (std::uint32_t i = 0; i < count && i < 16; ++i) {
        const auto alg = spec.get<std::uint16_t>("an algorithm id");
        sizes[alg] = spec.get<std::uint16_t>("a digest size");
        log.algorithms.push_back(alg);
    }
    if (!sizes.count(kAlgSha384) || sizes[kAlgSha384] != 48)
        throw MeasureError(fmt::format("{} has no SHA-384 bank", what),
                           "a TPM must have its sha384 bank active (swtpm_setup --pcr-banks "
                           "sha256,sha384)");
    log.td = first_index == 1 && sizes.size() == 1;
    while (bytes.size() - c.at >= 12) {
        const auto index = c.get<std::uint32_t>("an event's index");
        const auto type = c.get<std::uint32_t>("an event's type");
        const auto digests = c.get<std::uint32_t>("an event's digest count");
        if (index == 0xffffffff || (index == 0 && type == 0 && digests == 0))
            break; // a CCEL's unused area (0xFF) or zero padding
        Event e;
        e.type = type;
        if (log.td) {
            // MR index 1 = RTMR0 ... 4 = RTMR3; 0 = MRTD.
            e.rtmr = index >= 1 ? int(index) - 1 : -1;
            e.pcr = index == 2 ? 4 : index == 3 ? 8 : index == 1 ? 1 : 0;
        } else {
            e.pcr = int(index);
            e.rtmr = rtmr_of_pcr(e.pcr).value_or(-1);
        }
        for (std::uint32_t i = 0; i < digests; ++i) {
            const auto alg = c.get<std::uint16_t>("a digest's algorithm");
            auto it = sizes.find(alg);
            if (it == sizes.end())
                throw MeasureError(fmt::format("{}: an event at byte {} has a digest of "
                                               "algorithm {:#06x}, which the log's header does "
                                               "not declare",
                                               what, c.at, alg));
            std::string_view d = c.take(it->second, "a digest");
            if (alg == kAlgSha384) e.digest = std::string(d);
        }
        const auto data_size = c.get<std::uint32_t>("an event's size");
        e.what = describe(type, c.take(data_size, "an event's data"));
        if (type == kEvNoAction) continue;
        if (e.digest.empty())
            throw MeasureError(
                fmt::format("{}: an event of PCR {} has no SHA-384 digest", what, e.pcr));
        log.events.push_back(std::move(e));
    }
    return log;
}

} // namespace ccbake::measure
