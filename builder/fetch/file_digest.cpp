#include "fetch/file_digest.h"

#include "fetch/dual_hasher.h"
#include "util/error.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

namespace ccbake::fetch {

FileDigests digest_file(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw Error(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)),
                    "check the permissions of the cache directory");
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    DualHasher hasher;
    for (;;) {
        size_t room = 0;
        unsigned char* at = hasher.space(room);
        ssize_t n = ::read(fd, at, room);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            ::close(fd);
            throw Error(fmt::format("cannot read {}: {}", path.string(), std::strerror(err)),
                        "the cache's disk may be failing; check it, or choose another --cache");
        }
        if (n == 0) break;
        hasher.commit(size_t(n));
    }
    ::close(fd);
    hasher.finish();
    return FileDigests{hasher.md5_hex(), hasher.sha256_hex(), hasher.bytes()};
}

} // namespace ccbake::fetch
