#!/bin/bash
# Packer templates: `packer validate` accepts both; the standalone template bakes the Debian 12
# test image through `ccbake bake` (values with quotes and $(...) reach ccbake intact, never a
# shell) and Packer's manifest points at ccbake's; the post-processor template boots an image
# under qemu+OVMF (TCG here), then bakes the build's artifact. Set CCBAKE_SKIP_PACKER_QEMU=1 to
# leave out the boot (about 2 minutes under TCG).
source "$(dirname "$0")/lib.sh"
command -v packer >/dev/null || skip "packer is not installed (ci/packages/ecosystem.txt)"
tmp="$(mktemp -d /var/tmp/ccbake-packer.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
templates="$CCBAKE_SRC/packer"
export CHECKPOINT_DISABLE=1 PACKER_CACHE_DIR="$tmp/packer-cache" PACKER_LOG=0

# 1. Both templates validate (local inputs: validate would otherwise fetch the checksum file).
: >"$tmp/empty.img"
capture packer validate -var recipe=r.yaml -var input_image=in.raw -var output=out.raw \
    "$templates/standalone.pkr.hcl"
assert_rc 0
capture packer validate -var recipe=r.yaml -var output=out.qcow2 -var seed_iso=seed.iso \
    -var base_image="$tmp/empty.img" -var base_image_checksum=none "$templates/postprocess.pkr.hcl"
assert_rc 0
capture packer validate "$templates/standalone.pkr.hcl"
[ "$rc" -ne 0 ] || fail "validate accepted a template with no recipe"
assert_contains "$out" 'Unset variable "recipe"'
capture packer fmt -check "$templates"
assert_rc 0
# The pitfall: a -drive in qemuargs would replace Packer's own disk.
! grep -q '"-drive"' "$templates"/*.pkr.hcl || fail "a template passes -drive in qemuargs"

# 2. The real builds need `ccbake bake --image` and the cached Debian 12 test image.
base="$(bash "$CCBAKE_SRC/tests/fixtures/base-image.sh")" || fail "cannot build the Debian 12 UEFI test disk"
cat >"$tmp/recipe.yaml" <<'EOF'
name: packer-test
description: TEST ONLY - a small bake of the Debian 12 test image driven by Packer.
base: {os: debian, version: "12", min_kernel: 6.1.0}
variables: {note: unset}
steps:
  - file: {path: /etc/ccbake-packer-test, content: "${note}\n"}
  # A booted build VM has a machine-id; clones of the image must not share it.
  - file: {name: machine-id, path: /etc/machine-id, content: "", mode: "0444"}
EOF
note='it'"'"'s "baked"; $(touch '"$tmp"'/injected) `id`'
capture packer build -color=false -var recipe="$tmp/recipe.yaml" -var input_image="$base" \
    -var output="$tmp/standalone.raw" -var ccbake="$CCBAKE" -var cache="$tmp/cache" \
    -var "sets=[\"note=${note//\"/\\\"}\"]" -var manifest="$tmp/standalone-manifest.json" \
    "$templates/standalone.pkr.hcl"
assert_rc 0
[ ! -e "$tmp/injected" ] || fail "a --set value was evaluated by a shell"
[ -s "$tmp/standalone.raw" ] || fail "no baked image"
python3 - "$tmp" "$note" <<'EOF' || fail "manifests do not agree"
import json, sys
tmp, note = sys.argv[1], sys.argv[2]
packer = json.load(open(tmp + "/standalone-manifest.json"))["builds"][-1]
assert packer["builder_type"] == "null"
custom = packer["custom_data"]
assert custom["ccbake_image"] == tmp + "/standalone.raw"
ours = json.load(open(custom["ccbake_manifest"]))
assert ours["recipe"]["name"] == "packer-test", ours["recipe"]
assert ours["recipe"]["variables"]["note"] == note, ours["recipe"]["variables"]
assert ours["base_image"]["sha256"], "ccbake's manifest carries the base image digest"
EOF
rm -f "$tmp/standalone.raw"

# 3. The post-processor template: qemu boots an image that powers itself off (the test-only
# boot report hook), then shell-local bakes the build's artifact and manifest records it.
[ "${CCBAKE_SKIP_PACKER_QEMU:-0}" = 1 ] && { echo "packer qemu path left out (CCBAKE_SKIP_PACKER_QEMU=1)"; exit 0; }
command -v qemu-system-x86_64 >/dev/null && [ -r /usr/share/ovmf/OVMF.fd ] ||
    skip "qemu-system-x86_64 or OVMF is missing (ci/packages/ecosystem.txt)"
"$CCBAKE" bake "$CCBAKE_SRC/tests/recipes/e2e/boot-report.yaml" --image "$base" \
    --output "$tmp/selfoff.raw" --format raw >"$tmp/selfoff.log" 2>&1 || { cat "$tmp/selfoff.log"; fail "boot hook"; }
"$CCBAKE" render cloud-init "$tmp/recipe.yaml" -o "$tmp/seed" >/dev/null
# A writable /dev/kvm is not proof that KVM works (qemu then hangs): TCG unless told otherwise.
accel="${CCBAKE_TEST_ACCEL:-tcg}"
capture timeout 480 packer build -color=false -var recipe="$tmp/recipe.yaml" \
    -var base_image="$tmp/selfoff.raw" -var base_image_format=raw -var base_image_checksum=none \
    -var accelerator="$accel" -var seed_iso="$tmp/seed/seed.iso" -var build_dir="$tmp/qemu" \
    -var build_timeout=6m -var output="$tmp/final.qcow2" -var ccbake="$CCBAKE" -var cache="$tmp/cache" \
    -var manifest="$tmp/qemu-manifest.json" "$templates/postprocess.pkr.hcl"
assert_rc 0
grep -q "CCBAKE BOOT REPORT END" "$tmp/qemu-console.log" || fail "the build VM did not boot to its report"
python3 - "$tmp" <<'EOF' || fail "post-processor manifests"
import json, sys
tmp = sys.argv[1]
build = json.load(open(tmp + "/qemu-manifest.json"))["builds"][-1]
assert build["builder_type"] == "qemu", build
assert any(f["name"].endswith("build.raw") for f in build["files"]), build["files"]
ours = json.load(open(build["custom_data"]["ccbake_manifest"]))
assert ours["output_format"] == "qcow2" and ours["recipe"]["name"] == "packer-test"
EOF
[ -s "$tmp/final.qcow2" ] || fail "no baked image from the post-processor"
echo "packer templates OK (validate, standalone build, qemu post-processor build under $accel)"
