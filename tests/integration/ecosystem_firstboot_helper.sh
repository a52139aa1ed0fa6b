#!/bin/bash
# The first-boot helper's bake-at-boot actions, run on this machine inside a private mount
# namespace whose /var/lib/ccbake, /var/cache/ccbake and /etc/default/grub.d are tmpfs: fetch
# verifies digests and refuses a mismatch, unpack, install-file, run with `creates`, answers on
# stdin, check-deb, json-edit keeps comments, grub-cmdline merges; after a failed step the
# later ones do not run and `finish` fails.
source "$(dirname "$0")/lib.sh"
for tool in unshare curl dpkg-deb python3 tar; do
    command -v "$tool" >/dev/null || skip "$tool is missing"
done
tmp="$(mktemp -d /tmp/ccbake-test.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
helper="$CCBAKE_SRC/cloud-init/ccbake-firstboot.sh"

# Inputs: a tarball, a .deb, a JSON-with-comments file, an installer that reads answers.
mkdir -p "$tmp/src/top/sub" "$tmp/deb/DEBIAN" "$tmp/root"
echo payload >"$tmp/src/top/sub/file"
tar -czf "$tmp/payload.tgz" -C "$tmp/src" top
printf 'Package: demo-pkg\nVersion: 1.2-3\nArchitecture: all\nMaintainer: t <t@t>\nDescription: d\n' \
    >"$tmp/deb/DEBIAN/control"
dpkg-deb -b "$tmp/deb" "$tmp/demo.deb" >/dev/null
printf '{\n  // PCCS\n  "pccs_url": "https://localhost:8081/sgx/certification/v4/"\n  ,"use_secure_cert": false\n}\n' \
    >"$tmp/root/qcnl.conf"
printf '#!/bin/sh\nread a; read b; mkdir -p "$b/sdk"; echo "$a" > "$b/sdk/environment"\n' >"$tmp/installer.bin"
sha() { sha256sum "$1" | cut -d' ' -f1; }

script="$tmp/run.sh"
cat >"$script" <<EOF
set -u
mount -t tmpfs tmpfs /var/lib/ccbake 2>/dev/null || { mkdir -p /var/lib/ccbake && mount -t tmpfs tmpfs /var/lib/ccbake; }
mkdir -p /var/cache/ccbake && mount -t tmpfs tmpfs /var/cache/ccbake
mkdir -p /etc/default/grub.d && mount -t tmpfs tmpfs /etc/default/grub.d
h() { sh "$helper" step "\$@"; }
h 1 fetch fetch payload.tgz $(sha "$tmp/payload.tgz") - file://$tmp/payload.tgz
h 1 unpack unpack payload.tgz $tmp/root/opt/payload 1
h 2 fetch fetch demo.deb - $(md5sum "$tmp/demo.deb" | cut -d' ' -f1) file://$tmp/missing.deb file://$tmp/demo.deb
h 2 check check-deb demo.deb demo-pkg 1.2-3
h 3 fetch fetch installer.bin $(sha "$tmp/installer.bin") - file://$tmp/installer.bin
h 3 install answers $tmp/root/intel/sdk/environment 2 no $tmp/root/intel /bin/sh /var/cache/ccbake/firstboot/installer.bin
h 4 file install-file $tmp/src/top/sub/file $tmp/root/etc/motd 0640 root:root
h 5 run run $tmp/root/made yes - $tmp/root /usr/bin/env A=1 touch made
h 5 run-again run $tmp/root/made yes - $tmp/root /bin/false
h 6 json json-edit $tmp/root/qcnl.conf host pccs_url pccs.example:8081 set use_secure_cert true
h 7 grub grub-cmdline 99-ccbake.cfg no 1 quiet console=ttyS0 swiotlb=2097152
sh "$helper" finish; echo "finish=\$?"
cp /var/lib/ccbake/firstboot.log $tmp/log1
cp /etc/default/grub.d/99-ccbake.cfg $tmp/grub.cfg
# A wrong digest is refused, nothing enters the cache, and the later steps do not run.
h 8 bad fetch other.tgz $(printf '%064d' 0) - file://$tmp/payload.tgz
h 9 after run - no - / touch $tmp/root/after
sh "$helper" finish; echo "finish=\$?"
ls /var/cache/ccbake/firstboot/ > $tmp/cache-list
cp /var/lib/ccbake/firstboot.log $tmp/log2
EOF
capture unshare --mount --propagation private bash "$script"
echo "$out"
assert_contains "$out" "finish=0"
assert_contains "$out" "finish=1"
assert_eq "$(cat "$tmp/root/opt/payload/sub/file")" "payload" "unpacked with strip 1"
assert_eq "$(cat "$tmp/root/intel/sdk/environment")" "no" "installer answers"
assert_eq "$(stat -c %a "$tmp/root/etc/motd")" "640" "install-file mode"
[ -e "$tmp/root/made" ] || fail "run did not run"
assert_contains "$(cat "$tmp/log1")" "$tmp/root/made exists: skipped"
qcnl="$(cat "$tmp/root/qcnl.conf")"
assert_contains "$qcnl" "// PCCS"
assert_contains "$qcnl" '"https://pccs.example:8081/sgx/certification/v4/"'
assert_contains "$qcnl" '"use_secure_cert": true'
assert_contains "$(cat "$tmp/grub.cfg")" 'GRUB_CMDLINE_LINUX_DEFAULT="console=ttyS0 swiotlb=2097152"'
assert_contains "$(cat "$tmp/log2")" "expected $(printf '%064d' 0)"
assert_contains "$(cat "$tmp/log2")" "step 9 (after): not run, an earlier step failed"
[ ! -e "$tmp/root/after" ] || fail "a step ran after a failure"
assert_not_contains "$(cat "$tmp/cache-list")" "other.tgz"
assert_not_contains "$(cat "$tmp/cache-list")" "partial"
echo "first-boot helper actions OK"
