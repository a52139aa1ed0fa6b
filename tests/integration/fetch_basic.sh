#!/bin/bash
# fetch over http and file URLs into an empty cache, then again from the cache (quietly,
# without a request); progress as plain text on a pipe and JSON events with --json; --offline;
# refusal of unpinned artifacts; plan and cache ls.
source "$(dirname "$0")/lib.sh"
source "$CCBAKE_SRC/tests/server/fetch_helpers.sh"
fetch_setup
start_server
make_artifact pool/driver.run 3000000
make_artifact repo.tgz 200000
make_artifact unpinned.deb 5000
write_recipe "$work/r.yaml" "driver=$BASE/pool/driver.run" "repo=file://$srv/repo.tgz"
cc=("$CCBAKE" --cache "$cache")

capture "${cc[@]}" fetch "$work/r.yaml"
assert_rc 0
assert_cached "$srv/pool/driver.run"
assert_cached "$srv/repo.tgz"
assert_no_partial
# On a pipe: plain text, one line per event.
assert_plain_log "$out" "fetch progress on a pipe"
assert_contains "$out" "driver: downloading $BASE/pool/driver.run"
assert_contains "$out" "repo: downloading file://$srv/repo.tgz"
grep -Eq '^driver +2\.9 MiB .* done$' <<<"$out" || fail "no line for the finished download: $out"
assert_contains "$out" "fetched 2 artifacts"

# Everything cached: no request, nothing printed but the summary, plan says cached.
before="$(requests /pool/driver.run)"
capture "${cc[@]}" fetch "$work/r.yaml"
assert_rc 0
assert_eq "$(requests /pool/driver.run)" "$before" "requests after a cached fetch"
assert_not_contains "$out" '"event":"start"'
capture "${cc[@]}" plan "$work/r.yaml"
assert_contains "$out" "[cached]"
capture "${cc[@]}" cache ls
assert_contains "$out" "driver"
assert_contains "$out" "2 files"

# --json on stdout names every verified file.
capture "${cc[@]}" --json fetch "$work/r.yaml"
assert_rc 0
assert_contains "$out" "\"sha256\": \"$(sha256_of "$srv/repo.tgz")\""
# --json: progress on stderr is JSON events only, one per line, even with -v.
"$CCBAKE" --cache "$work/cache-json" --json -v fetch "$work/r.yaml" >"$work/fetch.json" 2>"$work/fetch.events"
events="$(json_events "$work/fetch.events")"
assert_contains "$events" "start"
assert_contains "$events" "done"
assert_contains "$events" "summary"
python3 -c 'import json,sys; assert set(json.load(open(sys.argv[1]))["artifacts"]) == {"driver", "repo"}' \
    "$work/fetch.json" || fail "fetch --json: no artifacts document on stdout: $(cat "$work/fetch.json")"

# -v: each artifact's file in the cache; plan with whole digests and hashes; cache ls with paths.
capture "${cc[@]}" -v fetch "$work/r.yaml"
assert_contains "$out" "$cache/objects/sha256/$(sha256_of "$srv/repo.tgz")"
step_hash="$("${cc[@]}" --json plan "$work/r.yaml" | python3 -c 'import json,sys; print(json.load(sys.stdin)["steps"][0]["hash"])')"
capture "${cc[@]}" plan "$work/r.yaml"
assert_not_contains "$out" "$step_hash"
capture "${cc[@]}" -v plan "$work/r.yaml"
assert_contains "$out" "$step_hash"
capture "${cc[@]}" -v cache ls
assert_contains "$out" "$cache/objects/sha256/$(sha256_of "$srv/repo.tgz")"
capture "${cc[@]}" -v validate "$work/r.yaml"
assert_contains "$out" "read $work/r.yaml"

# --offline: the cache is enough; a missing artifact is named, nothing is downloaded.
capture "${cc[@]}" fetch --offline "$work/r.yaml"
assert_rc 0
write_recipe "$work/more.yaml" "driver=$BASE/pool/driver.run" "extra=$BASE/unpinned.deb"
capture "${cc[@]}" fetch --offline "$work/more.yaml"
assert_rc 1
assert_contains "$out" "--offline: 1 artifact is not in the cache"
assert_contains "$out" "extra"
assert_eq "$(requests /unpinned.deb)" 0 "requests made offline"

# An artifact with neither md5 nor lock entry is refused unless the user says so.
write_recipe "$work/u.yaml" "blob=$BASE/unpinned.deb|none"
capture "${cc[@]}" fetch "$work/u.yaml"
assert_rc 2
assert_contains "$out" "1 artifact with no checksum: blob"
assert_contains "$out" "ccbake lock"
assert_eq "$(requests /unpinned.deb)" 0 "requests for a refused artifact"
capture "${cc[@]}" fetch --allow-unpinned "$work/u.yaml"
assert_rc 0
assert_cached "$srv/unpinned.deb"
echo "fetch basics ok"
