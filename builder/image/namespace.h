#pragma once
// The bake's private mount namespace: every mount ccbake makes lives in it, so when the
// process ends — normally, by Ctrl-C or by kill -9 — the kernel drops them all and the host
// sees nothing. Must be entered before any thread starts.
namespace ccbake::image {

// unshare(CLONE_NEWNS) and make "/" private recursively. Throws ccbake::Error.
void enter_private_mount_namespace();

}  // namespace ccbake::image
