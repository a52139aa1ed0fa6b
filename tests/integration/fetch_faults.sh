#!/bin/bash
# What a user gets for each way a server can misbehave: the artifact in the cache with the
# right digests, or a clear error and nothing in the cache that could pass for good.
source "$(dirname "$0")/lib.sh"
source "$CCBAKE_SRC/tests/server/fetch_helpers.sh"
fetch_setup
start_server
cc=("$CCBAKE" --cache "$cache")
for f in drop s503 s429 missing wrong slow norange loop moved; do make_artifact "$f.bin" 400000; done
mkdir -p "$srv/mirror" && cp "$srv/moved.bin" "$srv/mirror/moved.bin"

# fetch_one NAME [fetch options...]: fetch a recipe with the single artifact /NAME.bin.
fetch_one() {
    local name="$1"; shift
    rm -rf "$cache"
    write_recipe "$work/$name.yaml" "$name=$BASE/$name.bin"
    capture "${cc[@]}" fetch "$@" "$work/$name.yaml"
}

echo "-- connection closed mid-body: resumed with Range, digests cover the whole file"
fault /drop.bin drop:1
fetch_one drop --json
assert_rc 0
assert_cached "$srv/drop.bin"
assert_eq "$(requests /drop.bin 206)" 1 "Range requests after the drop"
assert_contains "$out" '"event":"retry"'

echo "-- 503 twice, then 200"
fault /s503.bin status:503:2
fetch_one s503
assert_rc 0
assert_cached "$srv/s503.bin"
assert_eq "$(requests /s503.bin 503)" 2 "503 answers"
assert_eq "$(requests /s503.bin 200)" 1 "200 answers"

echo "-- 429 with Retry-After: 2 is honoured"
fault /s429.bin retry-after:2:1
fetch_one s429
assert_rc 0
assert_cached "$srv/s429.bin"
gap="$(python3 -c '
import json, sys
t = [e["t"] for e in map(json.loads, open(sys.argv[1])) if e["path"] == "/s429.bin"]
print(int((t[1] - t[0]) * 10))' "$LOG")"
[ "$gap" -ge 19 ] || fail "the retry came $gap/10 s after the 429; Retry-After asked for 2 s"

echo "-- 404: one request, no retry, a clear error, nothing cached"
fault /missing.bin notfound
fetch_one missing
assert_rc 1
assert_contains "$out" "artifact 'missing' from $BASE/missing.bin: HTTP 404 Not Found"
assert_eq "$(requests /missing.bin)" 1 "requests for a 404"
assert_not_cached
assert_no_partial

echo "-- wrong bytes with the right length: refused, naming artifact, URL and both digests"
fault /wrong.bin wrong-bytes
fetch_one wrong --tries 1
assert_rc 1
assert_contains "$out" "artifact 'wrong' from $BASE/wrong.bin: md5 mismatch: expected $(md5_of "$srv/wrong.bin"), got "
assert_not_cached
assert_no_partial

echo "-- a trickle below the low-speed limit times out"
fault /slow.bin trickle:200
fetch_one slow --tries 2 --low-speed-time 1
assert_rc 1
assert_contains "$out" "artifact 'slow'"
assert_contains "$out" "Operation too slow"
# The server logs a request when its handler ends, which for a trickle comes after the
# client has given up: wait (bounded) for the second attempt's line.
for _ in $(seq 50); do [ "$(requests /slow.bin)" -ge 2 ] && break; sleep 0.2; done
assert_eq "$(requests /slow.bin)" 2 "attempts on a trickle with --tries 2"
assert_not_cached

echo "-- no Range support: a partial file is restarted cleanly"
fault /norange.bin drop:1
fetch_one norange --tries 1
assert_rc 1
[ -s "$cache/partial/md5-$(md5_of "$srv/norange.bin").partial" ] || fail "no partial kept after a drop"
fault /norange.bin no-range
write_recipe "$work/norange.yaml" "norange=$BASE/norange.bin"
capture "${cc[@]}" fetch "$work/norange.yaml"
assert_rc 0
assert_cached "$srv/norange.bin"
assert_no_partial

echo "-- a redirect loop stops at the redirect limit"
fault /loop.bin redirect-loop
fetch_one loop
assert_rc 1
assert_contains "$out" "more than 5 redirects"
[ "$(requests /loop.bin)" -le 7 ] || fail "a redirect loop was retried: $(requests /loop.bin) requests"
assert_not_cached

echo "-- a redirect to a mirror is followed"
fault /moved.bin "redirect:$BASE/mirror/moved.bin"
fetch_one moved
assert_rc 0
assert_cached "$srv/moved.bin"
assert_eq "$(requests /mirror/moved.bin 200)" 1 "requests to the mirror"

echo "-- the recipe's mirrors are tried in order when the primary fails"
rm -rf "$cache"
cp "$srv/moved.bin" "$work/local-mirror.bin"
write_recipe "$work/m.yaml" \
    "moved=$BASE/gone.bin|md5:$(md5_of "$srv/moved.bin")|$BASE/also-gone.bin,file://$work/local-mirror.bin"
capture "${cc[@]}" fetch "$work/m.yaml"
assert_rc 0
assert_cached "$srv/moved.bin"
assert_eq "$(requests /gone.bin)" 1 "requests to the failing primary"
assert_eq "$(requests /also-gone.bin)" 1 "requests to the failing first mirror"
echo "every fault handled"
