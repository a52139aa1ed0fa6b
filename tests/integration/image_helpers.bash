# Helpers for the image engine's integration tests (sourced after lib.sh; not a test itself).
command -v qemu-img >/dev/null && command -v mcopy >/dev/null && command -v sgdisk >/dev/null ||
    skip "needs qemu-utils, mtools and gdisk (ci/packages/image.txt)"
[ "$(id -u)" -eq 0 ] || skip "baking images needs root (loop devices, mounts)"

# A scratch directory for this test, removed when it ends (sets $dir; not via $(...), where
# the EXIT trap would fire at once).
make_scratch() {
    dir="$(mktemp -d /tmp/ccbake-test.XXXXXX)"
    trap 'rm -rf "$dir" "$CCBAKE_TEST_TMP"' EXIT
}
# A small bake on the synthetic shell.raw (a Debian 12 disk with a shell and a few programs):
# $in is that disk, $dir/out an empty folder, $dir/r.yaml the recipe NAME with the step lines
# on stdin, $cc ccbake with a cache of this test's own.
shell_image_recipe() {  # NAME
    bash "$CCBAKE_SRC/tests/fixtures/synthetic-images.sh" "$dir/in" >/dev/null
    in="$dir/in/shell.raw"
    mkdir -p "$dir/out"
    { printf 'name: %s\nbase: {os: debian, version: "12", min_kernel: 6.1.0}\nsteps:\n' "$1"; cat; } >"$dir/r.yaml"
    cc=("$CCBAKE" --cache "$dir/cache")
}
# Byte offset of partition N of a raw disk.
part_offset() { echo $(( $(partx -g -o START -n "$2" "$1") * 512 )); }
# Prints a file from the ext4 root (partition 2) of a raw disk, without mounting it.
root_cat() { debugfs -R "cat $2" "$1?offset=$(part_offset "$1" 2)" 2>/dev/null; }
# Prints a file from the ESP (partition 1) of a raw disk.
esp_cat() { MTOOLS_SKIP_CHECK=1 mtype -i "$1@@$(part_offset "$1" 1)" "::$2"; }
# Fails when a loop device or a mount of this test is still there.
assert_nothing_left() {  # DIR
    local loops
    for _ in $(seq 1 50); do  # autoclear may take a moment after the namespace is gone
        loops="$(losetup -a | grep -F "$1" || true)"
        [ -z "$loops" ] && break
        sleep 0.1
    done
    [ -z "$loops" ] || fail "loop devices left attached: $loops"
    ! grep -qF "$1" /proc/self/mountinfo || fail "mounts left: $(grep -F "$1" /proc/self/mountinfo)"
    ! ls -A "$1" | grep -q ccbake || fail "staged files left in $1: $(ls -A "$1")"
}
