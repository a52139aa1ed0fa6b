#!/bin/bash
# The shared package cache: the .debs apt downloads inside the image are kept in ccbake's cache
# (CACHE/apt/OS-VERSION/archives, bound over the image's /var/cache/apt/archives while the steps
# run), never left in the image, and a second bake on a fresh base downloads none of them again.
# The two bakes give the same content digest: apt's binary caches are removed, its and dpkg's
# logs (the times of the bake) are left out of the digest and named in the manifest.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/steps_install_lib.bash"
recipe pkgcache <<'EOF2'
  - apt_install: {packages: [hello], recommends: false}
EOF2
archives="$work/cache/apt/debian-12/archives"

fresh_root
bake pkgcache
assert_rc 0
[ "$(pkg_version hello)" != "" ] || fail "hello was not installed"
ls "$archives"/hello_*.deb >/dev/null 2>&1 || fail "the .deb is not in the package cache: $(ls -R "$work/cache/apt")"
grep -q 'amd64 hello ' "$work/logs/pkgcache/"*.log || fail "the first bake did not download hello"
! ls "$work/root/var/cache/apt/archives/"*.deb >/dev/null 2>&1 ||
    fail "debs left in the image: $(ls "$work/root/var/cache/apt/archives")"
! grep -q ' /var/cache/apt/archives ' /proc/self/mountinfo || fail "the package cache is still mounted"
content() { python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["content"]; print(c["sha256"], " ".join(c["excluded"]), " ".join(c["normalised"]))' "$work/root/usr/share/ccbake/manifest.json"; }
first="$(content)"
assert_contains "$first" "/var/log/dpkg.log" "the dpkg log is named as left out"
assert_contains "$first" "removed /var/cache/apt/pkgcache.bin" "the apt cache is named as removed"

# A fresh base, the same cache: apt takes hello from the cache (its hash checked against the
# image's lists) and downloads no .deb.
fresh_root
rm -rf "$work/logs/pkgcache"
bake pkgcache
assert_rc 0
[ "$(pkg_version hello)" != "" ] || fail "hello was not installed the second time"
! grep -q '^Get:.* amd64 hello ' "$work/logs/pkgcache/"*.log ||
    fail "the second bake downloaded hello again: $(grep '^Get:' "$work/logs/pkgcache/"*.log)"
! ls "$work/root/var/cache/apt/archives/"*.deb >/dev/null 2>&1 || fail "debs left in the image"
assert_eq "$(content)" "$first" "the content digest of a second bake on a fresh base"
echo "package cache: kept across bakes, never in the image"
