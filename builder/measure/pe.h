#pragma once
// PE/COFF images (shim, grub, the kernel's EFI stub) as UEFI firmware measures them: the
// Authenticode image hash (Microsoft's "Windows Authenticode Portable Executable Signature
// Format", "Calculating the PE Image Hash"; edk2's MeasureBootPeCoff.c does the same steps),
// and the raw bytes of a named section. The bytes are untrusted: every offset is checked
// against the file, and a malformed image is a MeasureError naming what is wrong.
#include "util/error.h"

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ccbake::measure {

// The boot chain cannot be read or measured (exit 3, like an image that cannot be read).
struct MeasureError : Error {
    explicit MeasureError(std::string message, std::string hint = {})
        : Error(std::move(message), std::move(hint), kExitPreflight) {}
};

// The little-endian T at byte `at` of untrusted bytes, or nullopt when it does not fit. PE, GPT,
// grub's module section and ELF are all little-endian, like x86-64.
template <class T> std::optional<T> read_le(std::string_view bytes, std::uint64_t at) {
    if (at > bytes.size() || bytes.size() - at < sizeof(T)) return std::nullopt;
    T v;
    std::memcpy(&v, bytes.data() + at, sizeof v);
    return v;
}

struct PeSection {
    std::string name;
    std::uint32_t virtual_address = 0, virtual_size = 0;
    std::uint32_t raw_offset = 0, raw_size = 0;
};

struct PeImage {
    std::uint16_t subsystem = 0; // 10 = EFI application
    std::vector<PeSection> sections;
    std::uint32_t certificate_size = 0; // the Security data directory's size (0: unsigned)
};

// Throws MeasureError when `file` is no PE/COFF image; `what` names it in the message.
PeImage parse_pe(std::string_view file, const std::string& what);
// The SHA-384 Authenticode hash (48 raw bytes): the headers without CheckSum and the
// certificate table entry, the sections in file order, then any data after them except the
// certificate table.
std::string authenticode_sha384(std::string_view file, const std::string& what);
// A section's bytes as stored in the file (SizeOfRawData), if the image has it.
std::optional<std::string_view> pe_section(std::string_view file, const std::string& name,
                                           const std::string& what);

} // namespace ccbake::measure
