#include "image/namespace.h"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <sched.h>
#include <sys/mount.h>

#include "util/error.h"

namespace ccbake::image {

void enter_private_mount_namespace() {
    static bool entered = false;
    if (entered) return;
    if (::unshare(CLONE_NEWNS) != 0)
        throw Error(fmt::format("cannot create a private mount namespace: {}", std::strerror(errno)),
                    "baking needs root (or CAP_SYS_ADMIN); run ccbake as root");
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        throw Error(fmt::format("cannot make mounts private: {}", std::strerror(errno)));
    entered = true;
}

}  // namespace ccbake::image
