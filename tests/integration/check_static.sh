#!/bin/bash
# ccbake-check runs on the image's Ubuntu 22.04 (glibc 2.35, older than the build machine's):
# it must be a static executable with no dynamic section, so it needs no shared library and
# no GLIBC symbol version at all.
source "$(dirname "$0")/lib.sh"
checker="$(dirname "$CCBAKE")/ccbake-check"
[ -x "$checker" ] || fail "no $checker: build the ccbake-check target (it is built with ccbake)"

capture file -L "$checker"
assert_contains "$out" "statically linked" "file $checker"
capture readelf -d "$checker"
assert_contains "$out" "There is no dynamic section in this file" "readelf -d $checker"
assert_not_contains "$out" "NEEDED"
capture readelf -l "$checker"
assert_not_contains "$out" "INTERP" "program headers (a dynamic loader)"
versions="$(readelf -V "$checker" 2>&1 | grep -o 'GLIBC_[0-9.]*' | sort -u || true)"
[ -z "$versions" ] || fail "the checker asks for glibc symbol versions: $versions"

# And it starts with an empty environment and reports its version.
capture env -i "$checker" --version
assert_rc 0
assert_contains "$out" "ccbake-check "
echo "$checker is static: no dynamic section, no NEEDED, no interpreter, no GLIBC versions"
