#!/bin/bash
# The demo a new user runs first: installs what is needed, builds ccbake, builds (or reuses)
# a Debian 12 UEFI base image as unkind as a stock Ubuntu cloud image (little free space, no
# apt lists, root=PARTUUID=, cc is gcc-11; tests/fixtures/cloud-image.sh), generates stand-in vendor artifacts and serves them on
# 127.0.0.1, bakes the demo recipe through the real download and verification path, boots
# the result under qemu and prints the evidence. Takes several minutes; progress is shown.
# Usage: ci/demo.sh [--out DIR] [--no-build]     (default DIR: /var/tmp/ccbake-demo)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out=/var/tmp/ccbake-demo build=1
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out="$2"; shift 2 ;;
        --no-build) build=0; shift ;;
        -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "demo: unknown option $1" >&2; exit 2 ;;
    esac
done
say() { printf '\n==> %s\n' "$*"; }
start=$SECONDS

if [ "$build" = 1 ]; then
    say "installing Debian packages and building ccbake"
    bash "$root/ci/bootstrap.sh"
    bash "$root/ci/build.sh" release
fi
export CCBAKE="$root/build/ccbake" CCBAKE_SRC="$root"
export CCBAKE_TEST_CACHE="${CCBAKE_TEST_CACHE:-/var/cache/ccbake-tests}"
mkdir -p "$out" "$CCBAKE_TEST_CACHE"

source "$root/ci/demo-setup.bash"
demo_setup "$out"
trap 'kill $server_pid 2>/dev/null || true' EXIT

say "baking the demo image (real downloads, md5+sha256 verification, dpkg/apt/make in a chroot)"
rm -f "$out/ppcie-8gpu-demo.qcow2"
"$CCBAKE" --cache "$out/cache" bake "$recipe" --image "$base" --output "$out/ppcie-8gpu-demo.qcow2" \
    --format qcow2 "${sets[@]}"

say "booting the baked image under qemu and reading its serial console"
bash "$root/tests/fixtures/boot-check.sh" "$out/ppcie-8gpu-demo.qcow2" | tee "$out/boot-report.txt"

say "evidence"
report="$out/boot-report.txt"
check() {  # DESCRIPTION PATTERN
    if grep -qE -- "$2" "$report"; then echo "  ok    $1"; else echo "  FAIL  $1"; failed=1; fi
}
failed=0
check "kernel command line carries swiotlb=2097152 (4 GiB)" 'cmdline: .*swiotlb=2097152'
for arg in iommu=pt noccfilter ioremap_force_shared authorize_allow_devs=ALL:ALL console=ttyS0; do
    check "kernel command line carries $arg" "cmdline: .* $arg( |$)"
done
check "nvidia-fabricmanager starts after nvidia-persistenced" 'unit nvidia-fabricmanager: .*After=([^=]* )?nvidia-persistenced\.service'
check "bcm-agent starts after nvidia-persistenced" 'unit bcm-agent: .*After=([^=]* )?nvidia-persistenced\.service'
check "has-agent starts after nvidia-persistenced" 'unit has-agent: .*After=([^=]* )?nvidia-persistenced\.service'
check "booted with its initramfs (the cloud base's initrd-less PARTUUID boot turned off)" '^initramfs: Freeing initrd memory'
check "grub finds the root by UUID" 'cmdline: .*root=UUID=1c9d3e2a-7f40-4b1e-8c6d-5a0b7e9f3d21 '
check "root file system grown to the recipe's disk_size (6 GiB disk)" '^root: /dev/vda1 [56][0-9]{9} bytes'
check "no unit failed to load" '^failed-to-load: *$'
check "in-guest checker ran at boot and says TDX is absent (qemu has none)" 'guest-check: .*TDX absent'
check "in-guest checker says the GPU is absent (qemu has none)" 'guest-check: .*GPU absent'
check "qcnl pccs_url points at the new PCCS, path kept" 'qcnl: .*pccs_url.*pccs.baidubce.com:8081/sgx/certification/v4/'
check "provenance manifest is in the image" '^manifest: present'
check "the nvidia module dkms built is there for the booted kernel" '^nvidia-module: kernel=([^ ]+) vermagic=\1 file=/lib/modules/\1/updates/dkms/nvidia\.ko .*NVIDIA open kernel module 570\.195\.03'
check "dkms has nvidia 570.195.03 installed" '^dkms: (.* )?nvidia/570\.195\.03, [^ ]+, x86_64: installed'
check "the venv has the three nvtrust packages at the tag's versions" '^venv: .*nv-attestation-sdk==2\.6\.1 nv-local-gpu-verifier==2\.6\.1 nv-ppcie-verifier==1\.6\.1 '
echo
echo "image:    $out/ppcie-8gpu-demo.qcow2"
echo "manifest: $out/ppcie-8gpu-demo.qcow2.manifest.json"
echo "The vendor artifacts in this image are STAND-INS built for the demo, not NVIDIA or Intel software."
echo "demo finished in $((SECONDS - start))s"
exit "$failed"
