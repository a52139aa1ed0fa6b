# Helpers for tests that bake a root directory (sourced after lib.sh; not a test itself): the
# test runs again in a private mount namespace, and $root is a fresh copy of the cached Debian
# 12 base root on a tmpfs (creating files on / is slow) in $work, gone when the test ends.
[ "$(id -u)" -eq 0 ] || fail "needs root (chroot, mounts)"
if [ "${CCBAKE_PRIVATE_NS:-}" != "$0" ]; then
    export CCBAKE_PRIVATE_NS="$0"
    rm -rf "$CCBAKE_TEST_TMP"  # exec drops lib.sh's EXIT trap; the new run makes its own
    exec unshare --mount --propagation private bash "$0" "$@"
fi
work="$(scratch)"
root="$work/root"
mkdir -p "$root"
mount -t tmpfs -o size=3g,mode=0755 ccbake-test "$root"
trap 'umount -l "$root"; rm -rf "$CCBAKE_TEST_TMP"' EXIT
base="$(bash "$CCBAKE_SRC/tests/fixtures/base-rootfs.sh")" || fail "cannot build the Debian 12 base root (tests/fixtures/base-rootfs.sh)"
cp -a "$base/." "$root/"
