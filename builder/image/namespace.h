#pragma once
// The bake's private namespaces, so that when a bake ends — normally, by Ctrl-C or by
// kill -9 — the host sees nothing of it: every mount lives in a private mount namespace, and
// every process in a private PID namespace whose init is the bake itself. When the bake dies
// the kernel kills what it started and drops its mounts, which detaches its loop devices
// (they use autoclear).
#include <filesystem>

namespace ccbake::image {

// unshare(CLONE_NEWNS) and make "/" private recursively. Idempotent. Throws ccbake::Error.
void enter_private_mount_namespace();

// Runs the rest of this process as PID 1 of a new PID namespace (with a private mount
// namespace): forks, and the parent only forwards SIGINT/SIGTERM/SIGHUP to the worker, waits,
// and exits with its status; the worker dies with the parent (PR_SET_PDEATHSIG). Returns in
// the worker. Must be called before any thread starts. Where PID namespaces are not
// permitted, only the mount namespace is made.
void isolate_bake();

// A tmpfs visible only inside the namespace (at /run/ccbake), for mount points and scratch
// trees: nothing is left on the host after a crash but the empty directory.
std::filesystem::path private_workspace();

} // namespace ccbake::image
