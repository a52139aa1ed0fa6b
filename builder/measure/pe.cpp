#include "measure/pe.h"

#include "util/digest.h"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>

namespace ccbake::measure {

namespace {

// Offsets in the PE/COFF specification (8.x, "Optional Header"), the same for PE32 and PE32+
// up to the data directories.
constexpr std::size_t kCheckSum = 64, kSizeOfHeaders = 60, kSubsystem = 68;
constexpr std::uint16_t kPe32 = 0x10b, kPe32Plus = 0x20b;
constexpr std::uint32_t kSecurityDirectory = 4;

struct Layout {
    PeImage image;
    std::size_t checksum = 0;       // file offset of OptionalHeader.CheckSum
    std::size_t security_entry = 0; // file offset of DataDirectory[4], 0 when absent
    std::uint32_t size_of_headers = 0;
};

struct Reader {
    std::string_view file;
    const std::string& what;
    template <class T> T at(std::size_t offset, const char* field) const {
        if (auto v = read_le<T>(file, offset)) return *v;
        throw MeasureError(fmt::format("{} is no PE image ccbake can measure: {} at byte {} lies "
                                       "past its end ({} bytes)",
                                       what, field, offset, file.size()));
    }
};

Layout read_layout(std::string_view file, const std::string& what) {
    Reader r{file, what};
    if (file.size() < 64 || file.substr(0, 2) != "MZ")
        throw MeasureError(fmt::format("{} is no PE image (no MZ header)", what));
    const std::size_t pe = r.at<std::uint32_t>(0x3c, "e_lfanew");
    if (r.at<std::uint32_t>(pe, "the PE signature") != 0x00004550)
        throw MeasureError(fmt::format("{} is no PE image (no PE signature at {})", what, pe));
    const std::size_t coff = pe + 4;
    const std::uint16_t sections = r.at<std::uint16_t>(coff + 2, "NumberOfSections");
    // Names longer than 8 bytes are "/N": offset N into the COFF string table, which follows
    // the symbol table (18-byte records).
    const std::uint64_t strings =
        std::uint64_t(r.at<std::uint32_t>(coff + 8, "PointerToSymbolTable")) +
        18ull * r.at<std::uint32_t>(coff + 12, "NumberOfSymbols");
    const std::uint16_t optional_size = r.at<std::uint16_t>(coff + 16, "SizeOfOptionalHeader");
    const std::size_t opt = coff + 20;
    const std::uint16_t magic = r.at<std::uint16_t>(opt, "the optional header's Magic");
    if (magic != kPe32 && magic != kPe32Plus)
        throw MeasureError(
            fmt::format("{} has an unknown optional header (Magic {:#x})", what, magic));
    Layout l;
    l.checksum = opt + kCheckSum;
    l.size_of_headers = r.at<std::uint32_t>(opt + kSizeOfHeaders, "SizeOfHeaders");
    l.image.subsystem = r.at<std::uint16_t>(opt + kSubsystem, "Subsystem");
    const std::size_t count_at = opt + (magic == kPe32 ? 92 : 108);
    const std::uint32_t directories = r.at<std::uint32_t>(count_at, "NumberOfRvaAndSizes");
    if (directories > kSecurityDirectory) {
        l.security_entry = count_at + 4 + 8 * kSecurityDirectory;
        l.image.certificate_size =
            r.at<std::uint32_t>(l.security_entry + 4, "the certificate table size");
    }
    if (l.size_of_headers > file.size() || l.checksum + 4 > l.size_of_headers ||
        (l.security_entry && l.security_entry + 8 > l.size_of_headers))
        throw MeasureError(fmt::format("{}: SizeOfHeaders ({}) does not cover its headers", what,
                                       l.size_of_headers));
    const std::size_t table = opt + optional_size;
    for (std::uint16_t i = 0; i < sections; ++i) {
        const std::size_t h = table + 40 * std::size_t(i);
        PeSection s;
        const std::string_view name = file.substr(std::min(h, file.size()), 8);
        s.name = std::string(name.substr(0, name.find('\0')));
        if (s.name.size() > 1 && s.name[0] == '/' &&
            s.name.find_first_not_of("0123456789", 1) == std::string::npos) {
            const std::uint64_t at = strings + std::stoull(s.name.substr(1));
            if (at >= file.size())
                throw MeasureError(
                    fmt::format("{}: section name {} lies past the end of the file", what, s.name));
            const std::string_view rest = file.substr(at);
            s.name = std::string(rest.substr(0, rest.find('\0')));
        }
        s.virtual_size = r.at<std::uint32_t>(h + 8, "a section's VirtualSize");
        s.virtual_address = r.at<std::uint32_t>(h + 12, "a section's VirtualAddress");
        s.raw_size = r.at<std::uint32_t>(h + 16, "a section's SizeOfRawData");
        s.raw_offset = r.at<std::uint32_t>(h + 20, "a section's PointerToRawData");
        if (s.raw_size && (s.raw_offset > file.size() || file.size() - s.raw_offset < s.raw_size))
            throw MeasureError(fmt::format("{}: section {} ({} bytes at {}) lies past the end of "
                                           "the file ({} bytes)",
                                           what, s.name, s.raw_size, s.raw_offset, file.size()));
        l.image.sections.push_back(std::move(s));
    }
    return l;
}

} // namespace

PeImage parse_pe(std::string_view file, const std::string& what) {
    return read_layout(file, what).image;
}

std::string authenticode_sha384(std::string_view file, const std::string& what) {
    const Layout l = read_layout(file, what);
    util::Sha384 h;
    auto range = [&](std::size_t from, std::size_t to) { h.update(file.substr(from, to - from)); };
    range(0, l.checksum);
    if (l.security_entry) {
        range(l.checksum + 4, l.security_entry);
        range(l.security_entry + 8, l.size_of_headers);
    } else {
        range(l.checksum + 4, l.size_of_headers);
    }
    std::vector<PeSection> sections = l.image.sections;
    std::stable_sort(sections.begin(), sections.end(), [](const PeSection& a, const PeSection& b) {
        return a.raw_offset < b.raw_offset;
    });
    std::uint64_t hashed = l.size_of_headers;
    for (const PeSection& s : sections) {
        if (s.raw_size == 0) continue;
        range(s.raw_offset, std::size_t(s.raw_offset) + s.raw_size);
        hashed += s.raw_size;
    }
    if (file.size() > hashed) {
        const std::uint64_t certificates = l.image.certificate_size;
        if (file.size() < hashed + certificates)
            throw MeasureError(fmt::format("{}: its certificate table ({} bytes) overlaps its "
                                           "sections",
                                           what, certificates));
        range(hashed, file.size() - certificates);
    }
    return h.digest();
}

std::optional<std::string_view> pe_section(std::string_view file, const std::string& name,
                                           const std::string& what) {
    for (const PeSection& s : read_layout(file, what).image.sections)
        if (s.name == name) return file.substr(s.raw_offset, s.raw_size);
    return std::nullopt;
}

} // namespace ccbake::measure
