#!/bin/bash
# Boots the Debian 12 test image, with Debian's cloud-init added, under qemu+OVMF with a seed
# from `ccbake render cloud-init`, and reads from the serial console that cloud-init consumed
# it: the first-boot helper waited for nvidia-persistenced (absent here), ran the vendor's
# guest checks (TDX ones fail outside a TD) and recorded the result. The VM is stopped from
# outside: the rendered user-data never powers off or reboots.
source "$(dirname "$0")/lib.sh"
command -v qemu-system-x86_64 >/dev/null && [ -r /usr/share/ovmf/OVMF.fd ] ||
    skip "qemu-system-x86_64 or OVMF is missing (ci/packages/ecosystem.txt)"
base="$(bash "$CCBAKE_SRC/tests/fixtures/base-image.sh")"
tmp="$(mktemp -d /var/tmp/ccbake-ci-boot.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT

# The test image with cloud-init, cached beside the base image (rebuilt when either changes).
recipe='name: cloud-init-test-image
description: TEST ONLY - the Debian 12 test image with Debian cloud-init, for booting rendered seeds.
base: {os: debian, version: "12", min_kernel: 6.1.0}
steps:
  - apt_install: {packages: [cloud-init], recommends: false, update: true}
  - file: {name: machine-id, path: /etc/machine-id, content: "", mode: "0444"}
  # Only what a NoCloud seed with write_files and runcmd needs: TCG boots are slow.
  - file:
      name: cloud-init-modules
      path: /etc/cloud/cloud.cfg.d/90-ccbake-test.cfg
      content: |
        datasource_list: [NoCloud]
        cloud_init_modules: [seed_random, bootcmd, write-files, set_hostname, update_hostname]
        cloud_config_modules: [runcmd]
        cloud_final_modules: [scripts-user, final-message]'
image="$CCBAKE_TEST_CACHE/ecosystem-cloud-init.qcow2"
want="$(printf '%s\n%s\n' "$recipe" "$(cat "$CCBAKE_TEST_CACHE/debian12-uefi.stamp" 2>/dev/null)" | sha256sum | cut -d' ' -f1)"
exec 9>"$image.lock"
flock 9
if [ ! -s "$image" ] || [ "$(cat "$image.stamp" 2>/dev/null)" != "$want" ]; then
    printf '%s\n' "$recipe" >"$tmp/image.yaml"
    echo "building $image (Debian's cloud-init into the test image, about 2 minutes)"
    rm -f "$image" "$image.manifest.json"
    "$CCBAKE" bake "$tmp/image.yaml" --image "$base" --output "$image" >"$tmp/image.log" 2>&1 ||
        { tail -n 20 "$tmp/image.log"; fail "could not add Debian's cloud-init to the test image (apt unreachable?)"; }
    echo "$want" >"$image.stamp"
fi
flock -u 9

cat >"$tmp/recipe.yaml" <<'EOF'
name: boot-seed-test
description: TEST ONLY - a recipe whose guest checks include the TD quote generator directory.
base: {os: debian, version: "12", min_kernel: 6.1.0}
steps:
  - source_build: {dir: /opt/intel/tdx-quote-generation-sample}
EOF
"$CCBAKE" render cloud-init "$tmp/recipe.yaml" -o "$tmp/seed" --wait-persistenced 30 >/dev/null
qemu-img create -q -f qcow2 -b "$image" -F qcow2 "$tmp/overlay.qcow2"
cp /usr/share/ovmf/OVMF.fd "$tmp/OVMF.fd"
console="$tmp/console.log"
qemu-system-x86_64 -accel "${CCBAKE_TEST_ACCEL:-tcg}" -machine q35 -m 1536 -smp 2 -bios "$tmp/OVMF.fd" \
    -drive "file=$tmp/overlay.qcow2,format=qcow2,if=virtio" -cdrom "$tmp/seed/seed.iso" \
    -nic none -display none -monitor none -serial "file:$console" -no-reboot &
qemu=$!
trap 'kill $qemu 2>/dev/null; wait $qemu 2>/dev/null; rm -rf "$tmp"' EXIT
report=""
for _ in $(seq 1 120); do  # at most 6 minutes under TCG
    sleep 3
    kill -0 "$qemu" 2>/dev/null || break
    report="$(tr -d '\r' <"$console" | grep -a "ccbake-firstboot: guest checks:" || true)"
    [ -n "$report" ] && break
done
log="$(tr -d '\r' <"$console" | grep -a "ccbake-firstboot" || true)"
[ -n "$report" ] || { tail -n 40 "$console"; fail "no first-boot check report on the serial console"; }
echo "$log"
assert_contains "$log" "nvidia-persistenced.service is not installed"
assert_contains "$log" "no /usr/lib/ccbake/ccbake-check in the image"
assert_contains "$log" "check tdx_guest_device: fail"
assert_contains "$log" "check td_quote: skip"
assert_contains "$report" "result in /var/lib/ccbake/firstboot-check.json"
kill -0 "$qemu" 2>/dev/null || fail "the guest powered off or rebooted by itself"
echo "cloud-init consumed the rendered seed: $report"
