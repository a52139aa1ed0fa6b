#!/bin/bash
# The cache under stress: a corrupted entry is detected and replaced, --reverify distrusts
# stamps, an interrupted run resumes where it stopped, two processes share one cache
# without downloading twice, gc trims it.
source "$(dirname "$0")/lib.sh"
source "$CCBAKE_SRC/tests/server/fetch_helpers.sh"
fetch_setup
start_server
cc=("$CCBAKE" --cache "$cache")
make_artifact a.bin 300000
make_artifact big.bin 1000000
make_artifact shared.bin 600000
write_recipe "$work/a.yaml" "a=$BASE/a.bin"
obj="$cache/objects/sha256/$(sha256_of "$srv/a.bin")"

echo "-- a corrupted cache entry is detected and downloaded again"
capture "${cc[@]}" fetch "$work/a.yaml"
assert_rc 0
chmod u+w "$obj"
printf 'X' | dd of="$obj" bs=1 seek=1000 conv=notrunc status=none
capture "${cc[@]}" --json fetch "$work/a.yaml"
assert_rc 0
assert_contains "$out" '"event":"corrupt"'
assert_eq "$(requests /a.bin)" 2 "downloads of a.bin"
assert_cached "$srv/a.bin"

echo "-- a stamp that lies is trusted until --reverify"
chmod u+w "$obj"
printf 'Y' | dd of="$obj" bs=1 seek=10 conv=notrunc status=none
python3 - "$obj" <<'PY'   # bit rot: the content changes, the stamp still matches the inode
import json, os, sys
obj = sys.argv[1]
st = os.stat(obj)
s = json.load(open(obj + ".stamp"))
s.update(mtime_ns=st.st_mtime_ns, ctime_ns=st.st_ctime_ns, inode=st.st_ino)
json.dump(s, open(obj + ".stamp", "w"))
PY
capture "${cc[@]}" fetch "$work/a.yaml"
assert_rc 0
assert_eq "$(requests /a.bin)" 2 "downloads with a fresh stamp"
capture "${cc[@]}" --json fetch --reverify "$work/a.yaml"
assert_rc 0
assert_contains "$out" '"event":"corrupt"'
assert_eq "$(requests /a.bin)" 3 "downloads after --reverify"
assert_cached "$srv/a.bin"

echo "-- an interrupted run resumes with Range"
fault /big.bin trickle:100000
write_recipe "$work/big.yaml" "big=$BASE/big.bin"
partial="$cache/partial/md5-$(md5_of "$srv/big.bin").partial"
"${cc[@]}" fetch "$work/big.yaml" 2>"$work/interrupted.log" &
pid=$!
for _ in $(seq 100); do [ "$(stat -c %s "$partial" 2>/dev/null || echo 0)" -gt 150000 ] && break; sleep 0.1; done
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
assert_eq "$rc" 130 "exit status after Ctrl-C"
kept="$(stat -c %s "$partial")"
[ "$kept" -gt 0 ] || fail "the interrupted download left no partial file to resume"
clear_faults
capture "${cc[@]}" fetch "$work/big.yaml"
assert_rc 0
assert_cached "$srv/big.bin"
assert_no_partial
grep -q "\"range\": \"bytes=$kept-\", \"status\": 206" "$LOG" || fail "no resume from byte $kept in: $(cat "$LOG")"

echo "-- two processes fetching one artifact into one cache download it once"
fault /shared.bin trickle:400000
write_recipe "$work/s.yaml" "shared=$BASE/shared.bin"
"${cc[@]}" --json fetch "$work/s.yaml" 2>"$work/p1.log" & p1=$!
"${cc[@]}" --json fetch "$work/s.yaml" 2>"$work/p2.log" & p2=$!
set +e; wait "$p1"; rc1=$?; wait "$p2"; rc2=$?; set -e
assert_eq "$rc1:$rc2" "0:0" "exit statuses of the two fetches"
assert_eq "$(requests /shared.bin)" 1 "downloads of the shared artifact"
assert_cached "$srv/shared.bin"
assert_contains "$(cat "$work/p1.log" "$work/p2.log")" '"event":"waiting"'

echo "-- gc removes abandoned partials, and with --max-size the least recently used files"
echo partial >"$cache/partial/md5-00000000000000000000000000000000.partial"
capture "${cc[@]}" cache gc
assert_rc 0
assert_contains "$out" "removed partial download"
assert_cached "$srv/a.bin"
capture "${cc[@]}" cache gc --max-size lots
assert_rc 2
capture "${cc[@]}" cache gc --max-size 0
assert_rc 0
assert_not_cached
capture "${cc[@]}" cache ls
assert_contains "$out" "0 files"
echo "cache behaviour ok"
