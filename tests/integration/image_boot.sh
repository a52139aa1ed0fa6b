#!/bin/bash
# A baked image boots: the Debian 12 base, baked to qcow2 with update-grub and a unit that
# reports on the serial console, boots under OVMF (TCG), and the report shows the baked
# file and a kernel command line naming the root by UUID.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/image_helpers.bash"
command -v qemu-system-x86_64 >/dev/null || skip "needs qemu-system-x86 (ci/packages/image.txt)"
ovmf=/usr/share/ovmf/OVMF.fd
[ -r "$ovmf" ] || skip "needs OVMF firmware (package ovmf)"
make_scratch
base="$(bash "$CCBAKE_SRC/tests/fixtures/base-image.sh")"
cat > "$dir/recipe.yaml" <<'YAML'
name: image-boot-test
base: {os: debian, version: "12", min_kernel: 6.1.0}
steps:
  - file: {name: motd, path: /etc/motd, content: "booted-from-ccbake\n"}
  - file:
      name: report-unit
      path: /etc/systemd/system/ccbake-report.service
      content: |
        [Unit]
        Description=Report the baked image on the serial console, then power off
        After=multi-user.target
        [Service]
        Type=oneshot
        StandardOutput=tty
        TTYPath=/dev/ttyS0
        ExecStart=/bin/sh -c 'echo "CCBAKE-REPORT motd=$(cat /etc/motd) cmdline=$(cat /proc/cmdline)"'
        ExecStartPost=/bin/systemctl --no-block poweroff
        [Install]
        WantedBy=multi-user.target
  - run: {name: enable-report, argv: [systemctl, enable, ccbake-report.service]}
  - run: {name: grub, argv: [update-grub]}
YAML
capture "$CCBAKE" --cache "$dir/cache" bake "$dir/recipe.yaml" --image "$base" --output "$dir/baked.qcow2"
assert_rc 0
# TCG boots the minimal guest in well under the limit; the guest powers itself off.
timeout 240 qemu-system-x86_64 -machine q35 -m 1024 -smp 2 -bios "$ovmf" -display none -no-reboot -net none \
    -drive "file=$dir/baked.qcow2,format=qcow2,if=virtio,snapshot=on" -serial "file:$dir/serial.log" || true
report="$(grep -a "CCBAKE-REPORT" "$dir/serial.log" | tail -n1 || true)"
[ -n "$report" ] || fail "no report on the serial console; last lines:"$'\n'"$(tail -n 20 "$dir/serial.log")"
assert_contains "$report" "motd=booted-from-ccbake"
assert_contains "$report" "root=UUID=6a3c1f0e-2b7d-4c55-9a1e-0c0ffee0ba5e"
echo "boot: $report"
