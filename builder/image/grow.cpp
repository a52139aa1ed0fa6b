#include "image/grow.h"

#include "image/loop.h"
#include "util/error.h"
#include "util/process.h"
#include "util/strings.h"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace ccbake::image {

namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;

// Runs a host tool on the staged disk; `ok` is the highest exit status that means success.
void tool(const std::vector<std::string>& argv, const fs::path& log, int ok = 0,
          std::optional<std::string> input = std::nullopt) {
    util::RunOptions o;
    o.log = log;
    o.stdin_data = std::move(input);
    o.timeout = std::chrono::seconds(1800);
    util::RunResult r = util::run(argv, o);
    if (r.exit_code < 0 || r.exit_code > ok) {
        Error e(fmt::format("growing the disk failed: {} exited with {}", argv[0], r.exit_code),
                "see the log; the input image is untouched and nothing was published");
        e.add_context("command: " + util::join(argv, " "));
        e.add_context("log: " + log.string());
        for (const auto& line : util::split(r.tail, '\n'))
            if (!line.empty()) e.add_context("  " + line);
        throw e;
    }
}

} // namespace

std::string growth_problem(const DiskLayout& layout, std::uint64_t disk_size, std::uint64_t size) {
    if (size < disk_size)
        return fmt::format("the disk size asked for ({}) is smaller than the image's ({}): a disk "
                           "only grows",
                           util::human_bytes(size), util::human_bytes(disk_size));
    for (const auto& p : layout.table.partitions)
        if (p.offset > layout.root.offset)
            return fmt::format("partition {} lies after the root partition {}: only a root "
                               "partition at the end of the disk can grow",
                               p.number, layout.root.number);
    return "";
}

GrowResult grow_disk(int disk_fd, const fs::path& disk, const DiskLayout& layout,
                     std::uint64_t size, const std::string& what, const fs::path& log) {
    struct stat st {};
    if (::fstat(disk_fd, &st) != 0)
        throw Error(fmt::format("cannot stat the staged disk: {}", std::strerror(errno)));
    GrowResult g;
    g.old_size = g.new_size = static_cast<std::uint64_t>(st.st_size);
    g.old_root_size = g.new_root_size = layout.root.size;
    g.layout = layout;
    size = (size + kMiB - 1) / kMiB * kMiB; // whole MiB, as partitioning tools align
    if (size <= g.old_size) return g;
    if (std::string why = growth_problem(layout, g.old_size, size); !why.empty())
        throw PreflightError(
            fmt::format("{}: cannot grow to {}: {}", what, util::human_bytes(size), why),
            "leave disk_size out, or start from an image whose root partition "
            "is the last one");
    if (::ftruncate(disk_fd, static_cast<off_t>(size)) != 0)
        throw Error(fmt::format("cannot extend the staged disk to {}: {}", util::human_bytes(size),
                                std::strerror(errno)),
                    "free space beside the output");
    const std::vector<std::string> quiet = {"sfdisk", "--no-reread", "--no-tell-kernel",
                                            "--wipe", "never",       "--wipe-partitions",
                                            "never"};
    auto sfdisk = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = quiet;
        argv.insert(argv.end(), args.begin(), args.end());
        return argv;
    };
    // The backup GPT header and entries belong in the last sectors of the disk.
    tool(sfdisk({"--relocate", "gpt-bak-std", disk.string()}), log);
    // The root partition keeps its start, GUIDs, type and name, and takes the space after it.
    tool(sfdisk({"-N", std::to_string(layout.root.number), disk.string()}), log, 0,
         std::string(", +\n"));
    DiskLayout grown = check_disk_layout(disk, what);
    if (grown.root.offset != layout.root.offset || grown.root.uuid != layout.root.uuid)
        throw Error(fmt::format("growing the disk moved the root partition of {}", what),
                    "report this: the partition table was rewritten unexpectedly");
    {
        // Offline: check first (resize2fs insists on it), then fill the partition.
        LoopDevice loop(disk_fd, grown.root.offset, grown.root.size, false);
        tool({"e2fsck", "-f", "-p", loop.path().string()}, log, 1);
        tool({"resize2fs", loop.path().string()}, log);
        loop.flush();
        loop.close();
    }
    g.layout = check_disk_layout(disk, what);
    g.new_size = size;
    g.new_root_size = g.layout.root.size;
    return g;
}

} // namespace ccbake::image
