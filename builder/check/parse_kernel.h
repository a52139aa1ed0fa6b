#pragma once
// Parsers for what the kernel says about itself: /proc/cpuinfo flags, kernel log records
// (from /dev/kmsg or dmesg), the TDX boot lines, the swiotlb size asked on the command line
// and the size the kernel reports it mapped (kernel releases compare with util/kernel_release.h).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ccbake::check {

// Message text of each kernel log record: strips the /dev/kmsg "PRI,SEQ,TS,FLAGS;" header or
// the dmesg "[   1.234567] " time stamp, and drops /dev/kmsg continuation (" KEY=value") lines.
std::vector<std::string> kernel_log_lines(const std::string& raw);

// True when some "flags" line of /proc/cpuinfo lists `flag`.
bool has_cpu_flag(const std::string& cpuinfo, const std::string& flag);

// The TDX lines of the kernel log; each is "" when absent.
struct TdxLog {
    std::string guest_detected;    // "tdx: Guest detected"
    std::string memory_encryption; // "Memory Encryption Features active: Intel TDX"
    std::string idle_routine;      // "process: using TDX aware idle routine"
};
TdxLog find_tdx_lines(const std::vector<std::string>& log);

// "software IO TLB: mapped [mem 0x...-0x...] (4096MB)": the size in MiB, and the line.
struct SwiotlbMapped {
    std::uint64_t mib = 0;
    std::string line;
    std::string adjusted; // "software IO TLB: SWIOTLB bounce buffer size adjusted ..." when present
};
std::optional<SwiotlbMapped> swiotlb_mapped(const std::vector<std::string>& log);

// The slab count of the last swiotlb=N[,force] on a kernel command line.
std::optional<std::uint64_t> cmdline_swiotlb_slabs(const std::string& cmdline);
// swiotlb= counts 2 KiB slabs.
constexpr std::uint64_t kSwiotlbSlabBytes = 2048;

} // namespace ccbake::check
