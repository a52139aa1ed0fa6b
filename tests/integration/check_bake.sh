#!/bin/bash
# `ccbake bake --rootfs` with a guest_check step puts the checker, its configuration and an
# enabled boot unit into the root; systemd-analyze verifies the unit without a warning; the
# baked checker runs from the image's path; a second bake changes nothing.
source "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed"
work="$(scratch)"
root="$work/root"
# A stand-in Debian 12 tree: os-release, a kernel, and the host's systemd units so that
# systemd-analyze can resolve multi-user.target and friends inside --root.
mkdir -p "$root"/{etc,usr/bin,bin,dev,proc,sys,boot,lib/modules/6.1.0-41-amd64,usr/lib/systemd}
printf 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n' >"$root/etc/os-release"
touch "$root/boot/vmlinuz-6.1.0-41-amd64" "$root/lib/modules/6.1.0-41-amd64/modules.order"
cp -a /lib/systemd/system "$root/usr/lib/systemd/"
recipe="$CCBAKE_SRC/tests/fixtures/check/guest-check-rootfs.yaml"

capture "$CCBAKE" --cache "$work/cache" bake "$recipe" --rootfs "$root"
assert_rc 0
assert_contains "$out" "wrote /usr/lib/ccbake/ccbake-check (mode 0755"
assert_contains "$out" "enabled ccbake-check.service (multi-user.target)"
[ -x "$root/usr/lib/ccbake/ccbake-check" ] || fail "the checker is not executable in the image"
cmp -s "$root/usr/lib/ccbake/ccbake-check" "$(dirname "$CCBAKE")/ccbake-check" || fail "the baked checker differs"
[ "$(readlink "$root/etc/systemd/system/multi-user.target.wants/ccbake-check.service")" = \
  /etc/systemd/system/ccbake-check.service ] || fail "ccbake-check.service is not enabled"
python3 - "$root/etc/ccbake/check.json" <<'PY' || fail "check.json does not carry the recipe's settings"
import json, sys
c = json.load(open(sys.argv[1]))
assert c["gpu_mode"] == "ppcie" and c["required"] == ["kernel.version"], c
assert c["min_kernel"] == "6.1.0" and c["persistenced_timeout_s"] == 420 and c["attestation_timeout_s"] == 120, c
PY
unit="$root/etc/systemd/system/ccbake-check.service"
assert_contains "$(cat "$unit")" "After=nvidia-persistenced.service nvidia-fabricmanager.service"
assert_contains "$(cat "$unit")" "TimeoutStartSec=1080"
capture systemd-analyze verify --root="$root" /etc/systemd/system/ccbake-check.service
assert_rc 0
[ -z "$out" ] || fail "systemd-analyze verify warned:"$'\n'"$out"
echo "baked: checker, check.json, enabled unit; systemd-analyze verify is clean"

# The baked program runs (here on the build host: only the kernel version is required).
capture "$root/usr/lib/ccbake/ccbake-check" --config "$root/etc/ccbake/check.json" --write "$work/report.json"
assert_rc 0
assert_contains "$out" "OK: every required check passed"
[ -s "$work/report.json" ] || fail "no report written"

capture "$CCBAKE" --cache "$work/cache" bake "$recipe" --rootfs "$root"
assert_rc 0
assert_contains "$out" "nothing to do"
echo "a second bake changes nothing"
