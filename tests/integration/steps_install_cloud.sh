#!/bin/bash
# Installing steps on the root of the cloud-like base (tests/fixtures/cloud-image.sh), which
# has what a stock cloud image lacks: no apt lists, no python3-venv, and a default compiler
# (cc = gcc-11) of another major version than the kernel's (gcc-12), which is not installed.
#   1. An apt_install without `update: true` refreshes the empty lists once and installs.
#   2. python_venv installs the interpreter's venv package (python3.11-venv) and creates the venv.
#   3. With the kernel's real headers, the NVIDIA installer stand-in's real kbuild fails with
#      the image's default compiler; nvidia_driver installs the kernel's compiler (gcc-12, read
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

# 1 + 2: apt from empty lists, and a venv without python3-venv. pip reaches the stand-in
# wheelhouse's PEP 503 index on a loopback server through `index_url`; the proxy variables set
# for ccbake here point at nothing, and must not reach pip.
mkdir -p "$work/pypi"
tar -xzf "$work/standins/nvtrust-wheelhouse.tar.gz" -C "$work/pypi"
python3 "$CCBAKE_SRC/tests/server/artifact_server.py" --root "$work/pypi" --port-file "$work/pypi.port" \
    --log "$work/pypi.log" --max-seconds 600 &
pypi_pid=$!
trap 'kill "$pypi_pid" 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 100); do [ -s "$work/pypi.port" ] && break; sleep 0.05; done
[ -s "$work/pypi.port" ] || fail "the package index server did not start"
index="http://127.0.0.1:$(cat "$work/pypi.port")/wheelhouse/simple/"
recipe cloud-apt nvtrust_source <<YAML
  - apt_install: {name: tools, packages: [less], recommends: false}
  - python_venv:
      name: venv
      artifact: nvtrust_source
      extract_to: /opt/nvtrust/src
      venv: /opt/nvtrust/venv
      install:
        - ./nvtrust-2025.7.17.001/guest_tools/gpu_verifiers/local_gpu_verifier
        - ./nvtrust-2025.7.17.001/guest_tools/attestation_sdk
        - ./nvtrust-2025.7.17.001/guest_tools/ppcie-verifier
      index_url: $index
YAML
export http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9
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
unset http_proxy https_proxy HTTP_PROXY
[ -x "$work/root/opt/nvtrust/venv/bin/python" ] || fail "no venv"
versions="$(in_root /opt/nvtrust/venv/bin/python -m pip list --disable-pip-version-check --format=freeze | grep '^nv-' | tr '\n' ' ')"
assert_eq "$versions" "nv-attestation-sdk==2.6.1 nv-local-gpu-verifier==2.6.1 nv-ppcie-verifier==1.6.1 " "the venv's nvtrust packages"
grep -q '"path": "/wheelhouse/simple/poetry-core/"' "$work/pypi.log" || fail "pip did not take the build backend from index_url"
grep -q '"path": "/wheelhouse/simple/cryptography/"' "$work/pypi.log" || fail "pip did not take the dependencies from index_url"
echo "empty lists refreshed once ($updates InRelease lines); venv package installed"

# 3. The kernel's compiler, with the image's real headers. Debian's linux-headers package
#    depends on the kernel's compiler (linux-compiler-gcc-12-x86 -> gcc-12); Ubuntu's
#    linux-headers-*-generic does not, which is why a 22.04 image with the HWE kernel has the
#    headers and no gcc-12 (the "gcc-12: not found" dkms failure users report). The test
#    removes gcc-12 again after the headers came, to have Ubuntu's state.
recipe cloud-headers <<'YAML'
  - kernel: {name: kernel, package: linux-image-amd64, headers_package: linux-headers-amd64}
YAML
bake cloud-headers
assert_rc 0
kernel="$(ls "$work/root/lib/modules" | sort -V | tail -n1)"
in_root test -f "/lib/modules/$kernel/build/.config" || fail "no headers for $kernel"
in_root dpkg --remove --force-depends gcc-12 >/dev/null 2>&1 || fail "cannot remove gcc-12"
[ ! -e "$work/root/usr/bin/gcc-12" ] || fail "gcc-12 is still there"
# Without the fix: the real kbuild with the image's cc (gcc-11) fails, as on Ubuntu.
run="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["nvidia_driver_run"]["file"])' "$work/standins/artifacts.json")"
cp "$work/standins/$run" "$work/root/tmp/installer.run"
capture chroot "$work/root" setpriv --bounding-set=-sys_module env -u CC sh /tmp/installer.run --silent \
    --kernel-module-type=open "--kernel-name=$kernel" --skip-module-load --no-nouveau-check
[ "$rc" -ne 0 ] || fail "the stand-in installer built with gcc-11 for a gcc-12 kernel"
grep -q "Unable to locate the compiler gcc-12" "$work/root/var/log/nvidia-installer.log" ||
    fail "the module Makefile did not look for the kernel's compiler: $(tail -n 20 "$work/root/var/log/nvidia-installer.log")"
grep -q "unrecognized command-line option .-ftrivial-auto-var-init=zero." "$work/root/var/log/nvidia-installer.log" ||
    fail "the build failed for another reason: $(tail -n 20 "$work/root/var/log/nvidia-installer.log")"
rm -f "$work/root/tmp/installer.run"
echo "with cc (gcc-11): kbuild fails on the kernel's -ftrivial-auto-var-init=zero, as on Ubuntu 22.04"

recipe cloud-driver nvidia_driver_run <<'YAML'
  - nvidia_driver: {name: driver, artifact: nvidia_driver_run, version: 570.195.03, update_initramfs: false}
YAML
bake cloud-driver
assert_rc 0
[ -x "$work/root/usr/bin/gcc-12" ] || fail "gcc-12 was not installed"
assert_eq "$(cat "$work/root/var/log/nvidia-installer-standin.cc")" "gcc-12" "CC the installer got"
kernel_cc="$(in_root sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"$/\1/p' "/lib/modules/$kernel/build/.config")"
assert_contains "$out" "built kernel modules with CC=gcc-12 ($kernel_cc, as kernel $kernel)" "the step's output"
assert_contains "$out" "installed gcc-12" "the step's changes"
assert_contains "$out" "driver: compiler: CC=gcc-12 (kernel $kernel was built with $kernel_cc)" "the step's progress"
assert_contains "$(in_root modinfo -F vermagic "/lib/modules/$kernel/updates/dkms/nvidia.ko")" "$kernel " "the module dkms built"
python3 - "$work/root/usr/share/ccbake/manifest.json" <<'PY' || fail "the manifest does not record the compiler"
import json, sys
m = json.load(open(sys.argv[1]))
changes = [c for s in m["steps"] if s["kind"] == "nvidia_driver" for c in s["changes"]]
assert any(c.startswith("built kernel modules with CC=gcc-12") for c in changes), changes
PY
echo "nvidia_driver: installed gcc-12 and built with CC=gcc-12"
