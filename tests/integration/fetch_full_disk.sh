#!/bin/bash
# A cache on a full file system: a clear error that says the disk is full, no partial file
# left behind, and nothing in the cache. Other artifacts that fit are kept.
source "$(dirname "$0")/lib.sh"
source "$CCBAKE_SRC/tests/server/fetch_helpers.sh"
fetch_setup
mkdir -p "$work/small"
mount -t tmpfs -o size=2m tmpfs "$work/small" 2>/dev/null || skip "cannot mount a small tmpfs here (needs root)"
start_server
cache="$work/small/cache"
make_artifact small.bin 100000
make_artifact huge.bin 6000000
write_recipe "$work/r.yaml" "small=file://$srv/small.bin" "huge=$BASE/huge.bin"

capture "$CCBAKE" --cache "$cache" fetch --jobs 1 "$work/r.yaml"
assert_rc 1
assert_contains "$out" "artifact 'huge': cannot write"
assert_contains "$out" "No space left on device"
assert_contains "$out" "hint: the cache's file system is full"
assert_no_partial
assert_not_in_cache "$srv/huge.bin"
assert_cached "$srv/small.bin"
echo "full disk handled"
