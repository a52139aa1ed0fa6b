#!/bin/bash
# Faults during a bake — a failing step, a step past its timeout, Ctrl-C (SIGINT) during a
# step, kill -9 of ccbake during a step, a full output file system — leave no output, no
# staged copy, no mount, no loop device and no process behind, and the input unchanged; each
# (but kill -9) ends with a clear message.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/image_helpers.bash"
make_scratch
bash "$CCBAKE_SRC/tests/fixtures/synthetic-images.sh" "$dir/in" >/dev/null
in="$dir/in/shell.raw"
in_sum="$(sha256sum "$in" | cut -d' ' -f1)"
mkdir -p "$dir/out"
recipe() {  # NAME STEP-YAML...
    local f="$dir/$1.yaml"; shift
    printf 'name: fault-test\nbase: {os: debian, version: "12", min_kernel: 6.1.0}\nsteps:\n' > "$f"
    for s in "$@"; do printf '  - %s\n' "$s" >> "$f"; done
    echo "$f"
}
check_clean() {  # WHAT
    [ -z "$(ls -A "$dir/out")" ] || fail "$1: files left beside the output: $(ls -A "$dir/out")"
    assert_nothing_left "$dir"
    assert_eq "$(sha256sum "$in" | cut -d' ' -f1)" "$in_sum" "$1: input checksum"
}
wait_for_process() {  # PATTERN
    for _ in $(seq 1 100); do pgrep -f "$1" >/dev/null && return 0; sleep 0.1; done
    fail "the step '$1' never started"
}
wait_gone() {  # PATTERN
    for _ in $(seq 1 100); do pgrep -f "$1" >/dev/null || return 0; sleep 0.1; done
    fail "the step's process '$1' outlived the bake"
}

# A failing step: exit 1, the step named, its argv and log tail shown.
r="$(recipe fail '{file: {path: /etc/motd, content: "x\n"}}' '{run: {name: broken, argv: [/bin/sh, -c, "echo about to fail; exit 4"]}}')"
capture "$CCBAKE" --cache "$dir/cache" bake "$r" --image "$in" --output "$dir/out/o.raw"
assert_rc 1
assert_contains "$out" "error: step 'broken' (run) failed"
assert_contains "$out" "about to fail"
check_clean "failing step"

# A step past its timeout is stopped with its children.
r="$(recipe timeout '{run: {name: slow, timeout: 1s, argv: [/bin/sh, -c, "/bin/sleep 297 & /bin/sleep 297"]}}')"
capture "$CCBAKE" --cache "$dir/cache" bake "$r" --image "$in" --output "$dir/out/o.raw"
assert_rc 1
assert_contains "$out" "step 'slow' ran past its timeout of 1s"
wait_gone "sleep 297"
check_clean "timeout"

# Ctrl-C during a step: exit 130 with a message, everything undone.
r="$(recipe sigint '{run: {name: long, argv: [/bin/sleep, "301"]}}')"
"$CCBAKE" --cache "$dir/cache" bake "$r" --image "$in" --output "$dir/out/o.raw" >"$dir/sigint.log" 2>&1 &
pid=$!
wait_for_process "sleep 301"
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
out="$(cat "$dir/sigint.log")"
assert_rc 130
assert_contains "$out" "interrupted (Ctrl-C)"
wait_gone "sleep 301"
check_clean "SIGINT"

# kill -9 of ccbake during a step: the kernel takes the namespaces down with it.
r="$(recipe kill '{run: {name: long, argv: [/bin/sleep, "302"]}}')"
"$CCBAKE" --cache "$dir/cache" bake "$r" --image "$in" --output "$dir/out/o.raw" >"$dir/kill.log" 2>&1 &
pid=$!
wait_for_process "sleep 302"
kill -9 "$pid"
set +e; wait "$pid"; set -e
wait_gone "sleep 302"
check_clean "kill -9"

# A full output file system: refused up front when it cannot hold the bake...
mkdir -p "$dir/small"
mount -t tmpfs -o size=64m tmpfs "$dir/small"
trap 'umount -l "$dir/small" 2>/dev/null || true; rm -rf "$dir"' EXIT
r="$(recipe full '{file: {path: /etc/motd, content: "x\n"}}')"
capture "$CCBAKE" --cache "$dir/cache" bake "$r" --image "$in" --output "$dir/small/o.raw"
assert_rc 1
assert_contains "$out" "not enough free space in $dir/small: the bake needs about"
[ -z "$(ls -A "$dir/small")" ] || fail "files left on the full file system"
umount "$dir/small"
# ...and when it fills up during the bake.
mount -t tmpfs -o size=300m tmpfs "$dir/small"
r="$(recipe filled '{run: {name: wait, argv: [/bin/sleep, "3.03"]}}' \
    '{run: {name: write, argv: [/bin/dd, if=/dev/zero, of=/root/big, bs=1M, count=16, conv=fsync]}}')"
"$CCBAKE" --cache "$dir/cache" bake "$r" --image "$in" --output "$dir/small/o.raw" >"$dir/full.log" 2>&1 &
pid=$!
wait_for_process "sleep 3.03"
dd if=/dev/zero of="$dir/small/filler" bs=1M 2>/dev/null || true
set +e; wait "$pid"; rc=$?; set -e
out="$(cat "$dir/full.log")"
assert_rc 1
assert_contains "$out" "the output's file system ($dir/small) is full"
rm -f "$dir/small/filler"
[ -z "$(ls -A "$dir/small")" ] || fail "files left on the filled file system: $(ls -A "$dir/small")"
umount "$dir/small"
check_clean "full file system"

# A publish that fails half-way (the qcow2 conversion stops like a full disk) leaves the
# output of an earlier bake exactly as it was: the new image is written beside it and only
# renamed over it once whole (--force: the earlier output is up to date).
mkdir -p "$dir/keep" "$dir/bin"
r="$(recipe republish '{file: {path: /etc/motd, content: "y\n"}}')"
capture "$CCBAKE" --cache "$dir/cache" bake "$r" --image "$in" --output "$dir/keep/o.qcow2" --format qcow2
assert_rc 0
before="$(ls -A "$dir/keep"; cd "$dir/keep" && sha256sum -- *)"
cat > "$dir/bin/qemu-img" <<'SH'
#!/bin/sh
# Test stand-in: `qemu-img convert -c` writes part of an image to its target, then fails as
# qemu-img does on a full disk; everything else goes to the real qemu-img.
case " $* " in
*" convert -c "*)
    for target; do :; done
    head -c 1048576 /dev/urandom > "$target"
    echo "qemu-img: error while writing at byte 1048576: No space left on device" >&2
    exit 1 ;;
esac
exec /usr/bin/qemu-img "$@"
SH
chmod +x "$dir/bin/qemu-img"
capture env PATH="$dir/bin:$PATH" "$CCBAKE" --cache "$dir/cache" bake "$r" --image "$in" \
    --output "$dir/keep/o.qcow2" --format qcow2 --force
assert_rc 1
assert_contains "$out" "cannot write the qcow2 output"
assert_eq "$(ls -A "$dir/keep"; cd "$dir/keep" && sha256sum -- *)" "$before" "the earlier output after a failed publish"
assert_nothing_left "$dir"
echo "faults: nothing left behind, input unchanged, an earlier output kept"
