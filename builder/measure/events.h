#pragma once
// Measured-boot events and TDX's measurement registers. An event extends one register with a
// SHA-384 digest: R = SHA384(R || digest), from 48 zero bytes. TDX maps the TCG PCRs onto its
// registers (UEFI 2.10, 38.4.1; edk2 TdTcg2Dxe MapPcrToMrIndex): PCR 0 -> MRTD, 1 and 7 ->
// RTMR0, 2-6 -> RTMR1, 8-15 -> RTMR2.
//
// Event logs are read in the TCG PC Client crypto-agile format (a TCG_PCR_EVENT record holding
// "Spec ID Event03", then TCG_PCR_EVENT2 records): a TPM's log (binary_bios_measurements; the
// first field is a PCR) or a TD's CCEL (the first field is the MR index, RTMR n = index n + 1;
// its Spec ID lists SHA-384 alone). The bytes are untrusted: a record that runs past the end
// or names a digest size the header did not declare is an error.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ccbake::measure {

// Event types (TCG PC Client PFP, "Event Types"; EV_IPL as shim and grub log it).
inline constexpr std::uint32_t kEvNoAction = 0x3, kEvSeparator = 0x4, kEvIpl = 0xd;
inline constexpr std::uint32_t kEvEfiBootServicesApplication = 0x80000003;
inline constexpr std::uint32_t kEvEfiGptEvent = 0x80000006, kEvEfiAction = 0x80000007;

std::string event_type_name(std::uint32_t type);
// The RTMR a PCR maps onto (0-2), or nullopt for PCR 0 (MRTD) and PCRs above 15.
std::optional<int> rtmr_of_pcr(int pcr);

struct Event {
    int pcr = 0;   // the TCG PCR (for a CCEL record: the PCR its MR index stands for)
    int rtmr = -1; // 0-3; -1 for MRTD or none
    std::uint32_t type = 0;
    std::string digest; // SHA-384, 48 raw bytes
    std::string what;   // what it measures, for people: a file, a command, a table
};

// Extends a 48-byte register with each event's digest, in order.
std::string replay(const std::vector<Event>& events, int rtmr);

struct EventLog {
    bool td = false; // a CCEL: MR indices, SHA-384 only
    std::vector<std::uint16_t> algorithms;
    std::vector<Event> events; // EV_NO_ACTION records left out: they extend nothing
};

// Throws MeasureError (pe.h) when `bytes` is no crypto-agile log with a SHA-384 bank.
EventLog parse_event_log(std::string_view bytes, const std::string& what);

} // namespace ccbake::measure
