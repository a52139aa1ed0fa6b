#!/bin/bash
# Installing steps on the root of the cloud-like base (tests/fixtures/cloud-image.sh), which
# has what a stock cloud image lacks: no apt lists, no python3-venv, and a default compiler
# (cc = gcc-11) of another major version than the kernel's (gcc-12), which is not installed.
#   1. An apt_install without `update: true` refreshes the empty lists once and installs.
#   2. python_venv installs the interpreter's venv package (python3.11-venv) and creates the venv.
#   3. The NVIDIA installer stand-in, run the way the real one builds modules, fails with the
#      image's default compiler; nvidia_driver installs the kernel's compiler (gcc-12, read
#      from CONFIG_CC_VERSION_TEXT in the headers' .config) and passes it as CC, and says so.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/steps_install_lib.bash"

cloud="$(bash "$CCBAKE_SRC/tests/fixtures/cloud-image.sh" --rootfs)" || fail "cannot build the cloud-like base"
umount -l "$work/root" 2>/dev/null || true
mount -t tmpfs -o size=4g,mode=0755 ccbake-test "$work/root"
cp -a "$cloud/." "$work/root/"
kernel="$(ls "$work/root/lib/modules" | sort -V | tail -n1)"
[ -z "$(ls -A "$work/root/var/lib/apt/lists" | grep -v '^partial$\|^lock$' || true)" ] || fail "the cloud root has apt lists"
[ "$(in_root cc --version | head -n1 | sed -n 's/.*) \([0-9]*\)\..*/\1/p')" = 11 ] || fail "cc in the cloud root is not gcc-11"
[ ! -e "$work/root/usr/bin/gcc-12" ] || fail "the cloud root already has gcc-12"

# 1 + 2: apt from empty lists, and a venv without python3-venv.
recipe cloud-apt nvtrust_source <<'YAML'
  - apt_install: {name: tools, packages: [less], recommends: false}
  - python_venv:
      name: venv
      artifact: nvtrust_source
      extract_to: /opt/nvtrust/src
      venv: /opt/nvtrust/venv
      install: [./nvtrust-2025.7.17.001/guest_tools/ppcie-verifier]
YAML
bake cloud-apt
assert_rc 0
[ -n "$(pkg_version less)" ] || fail "less is not installed"
# apt-get update's own lines (Get:/Hit: ... InRelease), once, in the first apt step's log.
updates="$(cat "$work/logs/cloud-apt/"*tools*.log | grep -c 'InRelease' || true)"
[ "$updates" -ge 1 ] || fail "apt-get update did not run before the install: $(cat "$work/logs/cloud-apt/"*tools*.log)"
! grep -q 'InRelease' "$work/logs/cloud-apt/"*venv*.log || fail "the lists were refreshed twice in one bake"
[ -n "$(ls -A "$work/root/var/lib/apt/lists" | grep -v '^partial$\|^lock$' || true)" ] || fail "the lists were not refreshed"
[ -n "$(pkg_version python3.11-venv)" ] || fail "python3.11-venv was not installed"
assert_contains "$out" "installed python3.11-venv" "the step's report"
[ -x "$work/root/opt/nvtrust/venv/bin/python" ] || fail "no venv"
echo "empty lists refreshed once ($updates InRelease lines); venv package installed"

# 3. The kernel's compiler. The headers' .config as Debian's linux-headers carries it (a stand-in
#    folder: the stand-in installer needs only /lib/modules/KVER/build and its .config).
mkdir -p "$work/root/usr/src/linux-headers-$kernel"
printf '%s\n' "#" "# Automatically generated file; DO NOT EDIT." \
    'CONFIG_CC_VERSION_TEXT="gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0"' "CONFIG_CC_IS_GCC=y" \
    > "$work/root/usr/src/linux-headers-$kernel/.config"
ln -sfn "/usr/src/linux-headers-$kernel" "$work/root/lib/modules/$kernel/build"
# Without the fix: the installer builds with the image's cc (gcc-11) and fails as kbuild does.
run="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["nvidia_driver_run"]["file"])' "$work/standins/artifacts.json")"
cp "$work/standins/$run" "$work/root/tmp/installer.run"
capture chroot "$work/root" env -u CC sh /tmp/installer.run --silent --kernel-module-type=open "--kernel-name=$kernel"
[ "$rc" -ne 0 ] || fail "the stand-in installer built with gcc-11 for a gcc-12 kernel"
grep -q "unrecognized command-line option '-ftrivial-auto-var-init=zero'" "$work/root/var/log/nvidia-installer.log" ||
    fail "the stand-in failed for another reason: $out"
rm -f "$work/root/tmp/installer.run"
echo "with cc (gcc-11): the installer fails as the real build does"

recipe cloud-driver nvidia_driver_run <<'YAML'
  - nvidia_driver: {name: driver, artifact: nvidia_driver_run, version: 570.195.03, update_initramfs: false}
YAML
bake cloud-driver
assert_rc 0
[ -x "$work/root/usr/bin/gcc-12" ] || fail "gcc-12 was not installed"
assert_eq "$(cat "$work/root/var/log/nvidia-installer-standin.cc")" "gcc-12" "CC the installer got"
assert_contains "$out" "built kernel modules with CC=gcc-12 (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, as kernel $kernel)" "the step's output"
assert_contains "$out" "installed gcc-12" "the step's changes"
assert_contains "$out" "driver: compiler: CC=gcc-12 (kernel $kernel was built with gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0)" "the step's progress"
python3 - "$work/root/usr/share/ccbake/manifest.json" <<'PY' || fail "the manifest does not record the compiler"
import json, sys
m = json.load(open(sys.argv[1]))
changes = [c for s in m["steps"] if s["kind"] == "nvidia_driver" for c in s["changes"]]
assert any(c.startswith("built kernel modules with CC=gcc-12") for c in changes), changes
PY
echo "nvidia_driver: installed gcc-12 and built with CC=gcc-12"
