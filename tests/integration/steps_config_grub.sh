#!/bin/bash
# kernel_cmdline with the real update-grub, through `ccbake bake --image` on the Debian 12 UEFI
# test disk: a 50-cloudimg-settings.cfg that sets its own GRUB_CMDLINE_LINUX_DEFAULT (as Ubuntu
# cloud images do) does not win, every Linux entry of grub.cfg carries the vendor's arguments
# and root=UUID=; baking the output again with another swiotlb size replaces the value and
# duplicates nothing.
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root (loop devices, mounts)"
command -v debugfs >/dev/null || skip "debugfs (e2fsprogs) is not installed"
base="$("$CCBAKE_SRC/tests/fixtures/base-image.sh")" || fail "cannot build the Debian 12 UEFI test disk (tests/fixtures/base-image.sh)"
work="$(mktemp -d /var/tmp/ccbake-steps-config-grub.XXXXXX)"
trap 'rm -rf "$work"' EXIT
vendor=(console=tty1 console=ttyS0 console=hvc0 iommu=pt noccfilter ioremap_force_shared authorize_allow_devs=ALL:ALL)

write_recipe() {  # SWIOTLB
    cat > "$work/grub.yaml" <<YAML
name: steps-config-grub
description: steps_config integration test (grub)
base: {os: debian, version: "12", min_kernel: 6.1.0}
steps:
  - file:
      name: cloudimg-settings
      path: /etc/default/grub.d/50-cloudimg-settings.cfg
      content: |
        GRUB_CMDLINE_LINUX_DEFAULT="console=tty1 console=ttyS0 quiet"
  - kernel_cmdline:
      swiotlb: $1
      add: [$(IFS=,; echo "${vendor[*]}")]
      remove: [quiet]
YAML
    # A site's own kernel_cmdline step stacked on the vendor's (issue: recipes that stack).
    [ -z "${2:-}" ] || cat >> "$work/grub.yaml" <<YAML
  - kernel_cmdline:
      name: site-cmdline
      add: [$2]
YAML
}
bake_image() {  # IN OUT
    capture timeout 300 "$CCBAKE" --cache "$work/cache" bake "$work/grub.yaml" --image "$1" --output "$2" \
        --format raw --log-dir "$work/logs"
}
# The root file system's /boot/grub/grub.cfg, read with debugfs through a read-only loop device.
grub_cfg() {  # IMAGE
    local start dev
    start="$(sfdisk --json "$1" | python3 -c 'import json,sys
parts = json.load(sys.stdin)["partitiontable"]["partitions"]
print(max(p["start"] for p in parts) * 512)')"
    dev="$(losetup -f --show -r -o "$start" "$1")"
    debugfs -R 'cat /boot/grub/grub.cfg' "$dev" 2>/dev/null
    losetup -d "$dev"
}
check_cfg() {  # CFG SLABS
    local lines line arg
    lines="$(grep -P '^\s*linux\s' <<<"$1" | grep -v ' single' || true)"
    [ -n "$lines" ] || fail "grub.cfg has no Linux entry:"$'\n'"$1"
    while read -r line; do
        for arg in "${vendor[@]}" "swiotlb=$2"; do
            [ "$(tr ' \t' '\n\n' <<<"$line" | grep -cxF -- "$arg")" -eq 1 ] || fail "'$arg' not exactly once in: $line"
        done
        assert_not_contains "$line" "quiet" "linux line"
        assert_eq "$(tr ' \t' '\n\n' <<<"$line" | grep -c '^swiotlb=')" "1" "swiotlb arguments in: $line"
    done <<<"$lines"
    while read -r line; do
        assert_contains "$line" "root=UUID=" "linux line"
        assert_not_contains "$line" "/dev/loop" "linux line"
    done < <(grep -P '^\s*linux\s' <<<"$1")
}

write_recipe 4GiB
bake_image "$base" "$work/one.raw"
echo "$out" | tail -n 12
assert_rc 0
check_cfg "$(grub_cfg "$work/one.raw")" 2097152

# The output baked again with another size: the old value is replaced, nothing duplicated.
write_recipe 8GiB
bake_image "$work/one.raw" "$work/two.raw"
echo "$out" | tail -n 8
assert_rc 0
cfg="$(grub_cfg "$work/two.raw")"
check_cfg "$cfg" 4194304
assert_not_contains "$cfg" "swiotlb=2097152" "grub.cfg"

# A second kernel_cmdline step: update-grub's grub.cfg carries both steps' arguments.
write_recipe 8GiB mitigations=auto
bake_image "$work/two.raw" "$work/three.raw"
assert_rc 0
cfg="$(grub_cfg "$work/three.raw")"
check_cfg "$cfg" 4194304
while read -r line; do
    assert_contains "$line" "mitigations=auto" "linux line with a second kernel_cmdline step"
done < <(grep -P '^\s*linux\s' <<<"$cfg" | grep -v ' single')
echo "steps_config_grub: ok"
