#!/bin/bash
# The base users really have: the cloud-like disk (tests/fixtures/cloud-image.sh; ~235 MiB
# free, root partition 1 last on the disk, fstab by LABEL, root=PARTUUID= in grub.cfg).
#   1. A recipe whose steps need more room than the image has: exit 3 before any step runs,
#      naming the disk size to ask for; nothing published, the input unchanged.
#   2. With --disk-size: the output's GPT, root partition and ext4 really grew (GUIDs, start
#      and label kept), the manifest records the sizes, the input is unchanged.
#   3. A disk_size smaller than the input is refused (exit 3).
#   4. An image that finds its root by LABEL (the stock generic cloud image) bakes and boots
#      under qemu/OVMF with that root= kept; a grub.cfg whose root= names no file system of
#      the disk fails the post-checks.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/image_helpers.bash"
make_scratch
base="$(bash "$CCBAKE_SRC/tests/fixtures/cloud-image.sh")" || fail "cannot build the cloud-like base image"
base_sum="$(cat "$base.sha256")"
p_start() { partx -g -o START -n "$2" "$1"; }
p_sectors() { partx -g -o SECTORS -n "$2" "$1"; }
fs_field() {  # DISK PART FIELD: a dumpe2fs -h field of partition PART's ext4
    dumpe2fs -h "$1?offset=$(( $(p_start "$1" "$2") * 512 ))" 2>/dev/null | sed -n "s/^$3: *//p"
}
cat_root() { debugfs -R "cat $2" "$1?offset=$(( $(p_start "$1" 1) * 512 ))" 2>/dev/null; }
assert_input_unchanged() {
    [ "$(sha256sum "$base" | cut -d' ' -f1)" == "$base_sum" ] || fail "the input image changed"
}

# 1. Too small: the steps' allowance (two apt_install steps, 512 MiB each) exceeds the free space.
cat > "$dir/big.yaml" <<'YAML'
name: cloud-too-small
base: {os: debian, version: "12", min_kernel: 6.1.0}
steps:
  - apt_install: {name: tools, packages: [less]}
  - apt_install: {name: more-tools, packages: [file]}
YAML
capture "$CCBAKE" --cache "$dir/cache" bake "$dir/big.yaml" --image "$base" --output "$dir/big.raw"
assert_rc 3
assert_contains "$out" "MiB free in its root file system, but the steps need about"
assert_contains "$out" "tools (apt_install): 512.0 MiB"
ask="$(sed -n 's/.*--disk-size \([0-9]*GiB\).*/\1/p' <<<"$out")"
[ -n "$ask" ] || fail "the refusal names no size to ask for: $out"
assert_not_contains "$out" "==> steps" "a refused bake"
[ ! -e "$dir/big.raw" ] || fail "a refused bake published its output"
assert_input_unchanged
echo "too small: exit 3, asks for --disk-size $ask"

# 2. The size it asked for works: the disk, the partition and the file system grew.
capture "$CCBAKE" --cache "$dir/cache" bake "$dir/big.yaml" --image "$base" --output "$dir/grown.raw" \
    --disk-size "$ask" --offline
assert_rc 0
assert_contains "$out" "disk grown"
want_bytes=$(( ${ask%GiB} * 1024 * 1024 * 1024 ))
assert_eq "$(stat -c %s "$dir/grown.raw")" "$want_bytes" "output disk size"
sgdisk -v "$dir/grown.raw" | grep -q "No problems found" || fail "the grown GPT does not verify: $(sgdisk -v "$dir/grown.raw")"
for field in "Partition unique GUID" "First sector" "Partition name" "Partition GUID code"; do
    assert_eq "$(sgdisk -i 1 "$dir/grown.raw" | grep "^$field")" "$(sgdisk -i 1 "$base" | grep "^$field")" "root partition: $field"
done
old_sectors="$(p_sectors "$base" 1)" new_sectors="$(p_sectors "$dir/grown.raw" 1)"
[ "$new_sectors" -gt $(( old_sectors * 2 )) ] || fail "the root partition did not grow: $old_sectors -> $new_sectors sectors"
old_blocks="$(fs_field "$base" 1 "Block count")" new_blocks="$(fs_field "$dir/grown.raw" 1 "Block count")"
[ $(( new_blocks * 4096 )) -gt $(( new_sectors * 512 - 4 * 1048576 )) ] ||
    fail "ext4 does not fill its partition: $new_blocks blocks in $new_sectors sectors (was $old_blocks)"
assert_eq "$(fs_field "$dir/grown.raw" 1 "Filesystem volume name")" "cloudimg-rootfs" "file system label"
e2fsck -fn "$dir/grown.raw?offset=$(( $(p_start "$dir/grown.raw" 1) * 512 ))" >/dev/null 2>&1 ||
    fail "the grown file system does not check clean"
assert_contains "$(cat_root "$dir/grown.raw" /var/lib/ccbake/journal.json)" '"tools"' "journal in the grown image"
python3 - "$dir/grown.raw.manifest.json" "$want_bytes" "$(stat -c %s "$base")" <<'PY' || fail "manifest disk sizes"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["disk"] == {"input_size": int(sys.argv[3]), "size": int(sys.argv[2])}, m["disk"]
PY
assert_input_unchanged
echo "grown: $(stat -c %s "$base") -> $want_bytes bytes, root $old_sectors -> $new_sectors sectors, ext4 $old_blocks -> $new_blocks blocks"

# 3. Shrinking is refused before anything is copied.
capture "$CCBAKE" --cache "$dir/cache" bake "$dir/big.yaml" --image "$base" --output "$dir/small.raw" \
    --disk-size 1GiB --offline
assert_rc 3
assert_contains "$out" "a disk only grows"
[ ! -e "$dir/small.raw" ] || fail "a refused bake published its output"

# 4. Root by LABEL, as the stock generic cloud image boots (livecd-rootfs'
#    replace_grub_root_with_label): no 40-force-partuuid.cfg, grub.cfg root=LABEL=cloudimg-rootfs.
cp --sparse=always "$base" "$dir/label.raw"
off=$(( $(p_start "$dir/label.raw" 1) * 512 ))
kver="$(cat_root "$dir/label.raw" /boot/grub/grub.cfg | sed -n 's|.*linux /boot/vmlinuz-\([^ ]*\) .*|\1|p' | head -n1)"
[ -n "$kver" ] || fail "no kernel in the base's grub.cfg"
uuid="$(fs_field "$dir/label.raw" 1 "Filesystem UUID")"
cat > "$dir/grub-label.cfg" <<CFG
set timeout=0
set default=0
insmod part_gpt
insmod ext2
search --no-floppy --fs-uuid --set=root $uuid
menuentry 'Debian GNU/Linux 12 (root by LABEL)' {
    insmod gzio
    linux /boot/vmlinuz-$kver root=LABEL=cloudimg-rootfs ro console=tty1 console=ttyS0
    initrd /boot/initrd.img-$kver
}
CFG
debugfs -w -R "rm /etc/default/grub.d/40-force-partuuid.cfg" "$dir/label.raw?offset=$off" >/dev/null 2>&1
debugfs -w -f - "$dir/label.raw?offset=$off" >/dev/null 2>&1 <<EOF
rm /boot/grub/grub.cfg
write $dir/grub-label.cfg /boot/grub/grub.cfg
EOF
assert_contains "$(cat_root "$dir/label.raw" /boot/grub/grub.cfg)" "root=LABEL=cloudimg-rootfs" "LABEL variant"
cat > "$dir/label.yaml" <<'YAML'
name: cloud-label
base: {os: debian, version: "12", min_kernel: 6.1.0}
steps:
  - file: {name: motd, path: /etc/motd, content: "baked on a LABEL root\n"}
YAML
capture "$CCBAKE" --cache "$dir/cache" bake "$dir/label.yaml" --image "$dir/label.raw" --output "$dir/label-out.raw"
assert_rc 0
assert_contains "$(cat_root "$dir/label-out.raw" /boot/grub/grub.cfg)" "root=LABEL=cloudimg-rootfs" "grub.cfg kept"
capture bash "$CCBAKE_SRC/tests/fixtures/boot-check.sh" "$dir/label-out.raw"
assert_rc 0
assert_contains "$out" "root=LABEL=cloudimg-rootfs" "the booted kernel's command line"
assert_contains "$out" "initramfs: Freeing initrd memory" "the boot"
echo "LABEL root: baked and booted"

# A root= naming another file system is caught before publishing.
sed 's/root=LABEL=cloudimg-rootfs/root=LABEL=some-other-disk/' "$dir/grub-label.cfg" > "$dir/grub-wrong.cfg"
debugfs -w -f - "$dir/label.raw?offset=$off" >/dev/null 2>&1 <<EOF
rm /boot/grub/grub.cfg
write $dir/grub-wrong.cfg /boot/grub/grub.cfg
EOF
capture "$CCBAKE" --cache "$dir/cache" bake "$dir/label.yaml" --image "$dir/label.raw" --output "$dir/wrong.raw"
assert_rc 1
assert_contains "$out" "root=LABEL=some-other-disk names no file system of this disk"
[ ! -e "$dir/wrong.raw" ] || fail "a bake that failed its post-checks published its output"
echo "a foreign root= fails the post-checks"
