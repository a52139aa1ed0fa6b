#!/bin/bash
# fetch over http and file URLs into an empty cache, then again from the cache (quietly,
# without a request); --offline; refusal of unpinned artifacts; plan and cache ls.
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
assert_contains "$out" '"event":"done"' "JSON-lines progress on a pipe"

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
