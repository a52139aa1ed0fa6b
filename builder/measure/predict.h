#pragma once
// What a genuine boot of an image through shim and grub measures into RTMR1 and RTMR2, from
// the bytes ccbake put into the boot path (docs/measure.md has the sources of every rule).
//
// RTMR1 (PCRs 2-6): the firmware's "Calling EFI Application from Boot Option" action; the
// separator(s) of its ready-to-boot (see Firmware); the GPT (header + non-empty entries, once
// per boot); shim's Authenticode hash (firmware); grub's Authenticode hash (shim, through the
// firmware); with Secure Boot on, the kernel's Authenticode hash each time grub asks shim to
// verify it; "Exit Boot Services Invocation" and "... Returned with Success".
// RTMR2 (PCRs 8-15): shim's MOK state: MokList (its built-in vendor certificate as an
// EFI_SIGNATURE_LIST), MokListX (its built-in dbx, or a null SHA-256 entry when it has none),
// MokListTrusted (the byte 0x01 when the variable is absent), as EV_IPL events in PCR 14. Then
// grub's commands, command lines and files (measure/grub.h), when grub measures into the
// register: into a TD only with EFI_CC_MEASUREMENT_PROTOCOL, which grub 2.06 as Ubuntu 22.04 and
// Debian 12 ship lacks (RTMR2 then ends with shim's events); into a TPM with its tpm module.
#include "measure/events.h"
#include "measure/grub.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ccbake::measure {

enum class Firmware {
    Tdvf,      // TDVF with edk2-stable202411 or later: one separator in RTMR1
    TdvfEarly, // TDVF before edk2-stable202411: its separator went to RTMR0 (edk2 efaf8931bb)
    OvmfTpm,   // OVMF with a TPM: one separator in each of PCRs 0-6
};
std::optional<Firmware> parse_firmware(const std::string& name);
std::string firmware_name(Firmware f);

// The boot chain as read from an image. Paths are for people.
struct BootChain {
    std::string gpt_event;           // EFI_GPT_DATA: the header, a UINT64 count, the entries
    std::string shim, shim_path;     // the loader the firmware starts
    std::string grub, grub_path;     // the loader shim starts
    std::string kernel, kernel_path; // the default entry's kernel (measured with Secure Boot)
    // Runs grub's script against the disk (measure/grub.h); unset when it cannot be read.
    std::function<GrubRun(bool secure_boot)> grub_run;
    std::vector<std::string> warnings;
};

struct Prediction {
    Firmware firmware = Firmware::Tdvf;
    bool secure_boot = false;
    std::vector<Event> events; // RTMR1 and RTMR2, in the order they are logged
    std::string rtmr1, rtmr2;  // 48 raw bytes each; rtmr2 empty when not predicted
    bool grub_measures_td = false;
    std::vector<std::string> notes;
};

// The EFI_GPT_DATA event of a disk read through `read` (offset, size -> bytes), with
// `sector` bytes per sector. Throws MeasureError for a disk without a valid GPT header.
std::string gpt_event_data(const std::function<std::string(std::uint64_t, std::size_t)>& read,
                           std::uint32_t sector);

Prediction predict(const BootChain& chain, Firmware firmware, bool secure_boot);

} // namespace ccbake::measure
