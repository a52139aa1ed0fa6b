#!/bin/bash
# RECIPE.lock: `lock` pins what the vendor publishes no checksum for, `fetch` then accepts it
# and refuses a changed upstream file, `lock --check` reports the drift with exit 1, and
# `lock --update` pins the new file after review.
source "$(dirname "$0")/lib.sh"
source "$CCBAKE_SRC/tests/server/fetch_helpers.sh"
fetch_setup
start_server
cc=("$CCBAKE" --cache "$cache")
make_artifact nvidia/driver.run 250000
make_artifact intel/repo.tgz 120000
write_recipe "$work/r.yaml" "driver=$BASE/nvidia/driver.run|none" "repo=$BASE/intel/repo.tgz"
lock="$work/r.yaml.lock"

capture "${cc[@]}" fetch "$work/r.yaml"
assert_rc 2
assert_contains "$out" "no checksum: driver"

capture "${cc[@]}" lock "$work/r.yaml"
assert_rc 0
assert_contains "$out" "2 artifacts pinned (2 new, 0 changed)"
python3 - "$lock" "$(sha256_of "$srv/nvidia/driver.run")" <<'PY' || fail "lock file content: $(cat "$lock")"
import json, sys
lock = json.load(open(sys.argv[1]))
assert lock["version"] == 1
d = lock["artifacts"]["driver"]
assert d["sha256"] == sys.argv[2] and d["size"] == 250000, d
assert d["url"].endswith("/nvidia/driver.run"), d
PY

capture "${cc[@]}" fetch "$work/r.yaml"
assert_rc 0
# The pins are applied where the recipe is loaded, before hashing: plan shows the pinned
# digest, finds the file fetch cached, and its hash is the one a bake records.
"${cc[@]}" plan --json "$work/r.yaml" >"$work/plan.json" || fail "plan failed"
python3 - "$work/plan.json" "$(sha256_of "$srv/nvidia/driver.run")" <<'PY' || fail "plan with the lock: $(cat "$work/plan.json")"
import json, sys
plan = json.load(open(sys.argv[1]))
d = {a["name"]: a for a in plan["artifacts"]}["driver"]
assert d["sha256"] == sys.argv[2] and d["size"] == 250000, d
assert d["cache"] == "cached", d
PY
hash_with_lock="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["recipe"]["hash"])' "$work/plan.json")"
mv "$lock" "$lock.away"
hash_without="$("${cc[@]}" plan --json "$work/r.yaml" | python3 -c 'import json,sys; print(json.load(sys.stdin)["recipe"]["hash"])')"
mv "$lock.away" "$lock"
[ "$hash_with_lock" != "$hash_without" ] || fail "the lock's pins did not reach the recipe hash"
capture "${cc[@]}" lock --check "$work/r.yaml"
assert_rc 0
assert_contains "$out" "2 artifacts match"

echo "-- upstream changes the driver"
pinned="$(sha256_of "$srv/nvidia/driver.run")"
make_artifact nvidia/driver.run 250000
capture "${cc[@]}" lock --check "$work/r.yaml"
assert_rc 1
assert_contains "$out" "drift    driver"
assert_contains "$out" "sha256 is now $(sha256_of "$srv/nvidia/driver.run") (250000 bytes), the lock has $pinned"
assert_contains "$out" "1 of 2 artifacts differ"
assert_contains "$(cat "$lock")" "$pinned"

rm -rf "$cache"
capture "${cc[@]}" fetch "$work/r.yaml"
assert_rc 1
assert_contains "$out" "artifact 'driver' from $BASE/nvidia/driver.run: sha256 mismatch: expected $pinned, got $(sha256_of "$srv/nvidia/driver.run")"
assert_not_in_cache "$srv/nvidia/driver.run"
assert_cached "$srv/intel/repo.tgz"
assert_no_partial

capture "${cc[@]}" lock --update "$work/r.yaml"
assert_rc 0
assert_contains "$out" "(0 new, 1 changed)"
capture "${cc[@]}" fetch "$work/r.yaml"
assert_rc 0
assert_cached "$srv/nvidia/driver.run"

echo "-- a lock entry made for another URL does not pin the artifact"
write_recipe "$work/r.yaml" "driver=$BASE/nvidia/driver-2.run|none" "repo=$BASE/intel/repo.tgz"
capture "${cc[@]}" fetch "$work/r.yaml"
assert_rc 2
assert_contains "$out" "no checksum: driver"
echo "lock ok"
