#pragma once
// The bake's private namespaces: every mount ccbake makes lives in a private mount namespace,
// and every command it runs lives in a private PID namespace whose init (a tiny keeper
// process) dies with ccbake. So when ccbake ends — normally, by Ctrl-C or by kill -9 — the
// kernel kills what it started, drops its mounts and thus detaches its loop devices (they use
// autoclear); the host sees nothing. Must be entered before any thread starts.
#include <filesystem>

namespace ccbake::image {

// unshare(CLONE_NEWNS | CLONE_NEWPID), make "/" private recursively and start the keeper.
// Idempotent. Where PID namespaces are unavailable, only the mount namespace is made.
// Throws ccbake::Error.
void enter_private_mount_namespace();

// A tmpfs visible only inside the namespace (at /run/ccbake), for mount points and scratch
// trees: nothing is left on the host after a crash but the empty directory.
std::filesystem::path private_workspace();

}  // namespace ccbake::image
