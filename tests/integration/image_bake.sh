#!/bin/bash
# Bakes the cached Debian 12 UEFI disk with file and run steps (one writes the ESP, one runs
# update-grub): the output carries the changes, grub.cfg names the root by UUID, the journal
# and the provenance manifest are inside and beside it; re-baking is a no-op; a changed step
# is re-applied from there on; the same works on a root directory with --rootfs.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/image_helpers.bash"
make_scratch
base="$(bash "$CCBAKE_SRC/tests/fixtures/base-image.sh")"
base_sum="$(cat "$base.sha256")"  # recorded when the fixture was built
write_recipe() {  # FILE MOTD
    cat > "$1" <<YAML
name: image-bake-test
description: Test recipe for the image engine (Debian 12 base).
base: {os: debian, version: "12", min_kernel: 6.1.0}
steps:
  - file: {name: motd, path: /etc/motd, content: "$2\n"}
  - file: {name: esp-marker, path: /boot/efi/EFI/ccbake/marker.txt, content: "on the ESP\n"}
  - run: {name: grub, argv: [update-grub]}
  - run: {name: hello, argv: [/bin/sh, -c, "echo hello > /root/hello"], creates: /root/hello}
YAML
}
write_recipe "$dir/recipe.yaml" "baked by ccbake"

# 1. A first bake applies every step.
capture env SOURCE_DATE_EPOCH=1700000000 "$CCBAKE" --cache "$dir/cache" bake "$dir/recipe.yaml" \
    --image "$base" --output "$dir/one.raw"
assert_rc 0
for phase in preflight fetch stage attach steps post-checks manifest publish; do
    assert_contains "$out" "==> $phase" "phases"
done
assert_contains "$out" "[4/4] hello (run): applied"
assert_eq "$(root_cat "$dir/one.raw" /etc/motd)" "baked by ccbake" "motd"
assert_eq "$(root_cat "$dir/one.raw" /root/hello)" "hello" "run step output"
assert_eq "$(esp_cat "$dir/one.raw" /EFI/ccbake/marker.txt)" "on the ESP" "file written to the ESP"
assert_contains "$(esp_cat "$dir/one.raw" /EFI/BOOT/grub.cfg)" "search" "ESP kept its loader config"
grub="$(root_cat "$dir/one.raw" /boot/grub/grub.cfg)"
assert_contains "$grub" "root=UUID=6a3c1f0e-2b7d-4c55-9a1e-0c0ffee0ba5e" "grub.cfg"
assert_not_contains "$grub" "/dev/loop" "grub.cfg"
assert_eq "$(root_cat "$dir/one.raw" /etc/machine-id)" "" "machine-id"
assert_eq "$(root_cat "$dir/one.raw" /usr/sbin/policy-rc.d)" "" "policy-rc.d left in the image"

# The manifest, inside and beside, with the documented fields.
root_cat "$dir/one.raw" /usr/share/ccbake/manifest.json > "$dir/inside.json"
cmp -s "$dir/inside.json" "$dir/one.raw.manifest.json" || fail "manifest inside and beside differ"
python3 - "$dir/one.raw.manifest.json" "$base_sum" <<'PY' || fail "manifest fields"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["format"] == 1 and m["created"] == "2023-11-14T22:13:20Z", m["created"]
assert m["ccbake_version"] and m["output_format"] == "raw"
assert m["recipe"]["name"] == "image-bake-test" and len(m["recipe"]["hash"]) == 64
assert m["base_image"]["sha256"] == sys.argv[2] and m["base_image"]["kind"] == "raw"
assert m["base_image"]["os"] == "Debian GNU/Linux 12 (bookworm)"
assert m["artifacts"] == []
assert [s["name"] for s in m["steps"]] == ["motd", "esp-marker", "grub", "hello"]
assert all(s["status"] == "applied" and len(s["hash"]) == 64 and s["changes"] for s in m["steps"]), m["steps"]
PY
journal="$(root_cat "$dir/one.raw" /var/lib/ccbake/journal.json)"
assert_eq "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)["steps"]))' <<<"$journal")" 4 "journal steps"

# 2. Re-baking the baked image with the same recipe applies nothing (qcow2 output).
capture "$CCBAKE" --cache "$dir/cache" bake "$dir/recipe.yaml" --image "$dir/one.raw" --output "$dir/two.qcow2"
assert_rc 0
assert_contains "$out" "every step was already applied: nothing to do"
assert_not_contains "$out" ": applied"
assert_contains "$(qemu-img info "$dir/two.qcow2")" "compression type: zstd"

# 3. A changed step is re-applied, and so is everything after it.
write_recipe "$dir/changed.yaml" "baked again"
capture "$CCBAKE" --cache "$dir/cache" bake "$dir/changed.yaml" --image "$dir/two.qcow2" --output "$dir/three.raw"
assert_rc 0
assert_contains "$out" "step 'motd' changed since the last bake: re-applying from there on"
assert_contains "$out" "[1/4] motd (file): applied"
assert_contains "$out" "[3/4] grub (run): applied"
assert_eq "$(root_cat "$dir/three.raw" /etc/motd)" "baked again" "changed motd"

# 4. --rootfs: the same engine on a root directory (on tmpfs: creating files is slow here).
rootfs="$(bash "$CCBAKE_SRC/tests/fixtures/base-rootfs.sh")"
tree="$(mktemp -d /dev/shm/ccbake-rootfs.XXXXXX)"
trap 'rm -rf "$dir" "$tree"' EXIT
if [ -d "$rootfs" ]; then cp -a "$rootfs/." "$tree/"; else tar -C "$tree" -xf "$rootfs"; fi
cat > "$dir/rootfs.yaml" <<'YAML'
name: image-rootfs-test
base: {os: debian, version: "12", min_kernel: 6.1.0}
steps:
  - file: {name: motd, path: /etc/motd, content: "rootfs bake\n"}
  - run: {name: hello, argv: [/bin/sh, -c, "echo hello > /root/hello"], creates: /root/hello}
YAML
capture "$CCBAKE" --cache "$dir/cache" bake "$dir/rootfs.yaml" --rootfs "$tree"
assert_rc 0
assert_eq "$(cat "$tree/etc/motd")" "rootfs bake" "rootfs motd"
assert_eq "$(cat "$tree/root/hello")" "hello" "rootfs run step"
[ -s "$tree/usr/share/ccbake/manifest.json" ] || fail "no manifest in the root directory"
[ ! -e "$tree/usr/sbin/policy-rc.d" ] || fail "policy-rc.d left in the root directory"
capture "$CCBAKE" --cache "$dir/cache" bake "$dir/rootfs.yaml" --rootfs "$tree"
assert_rc 0
assert_contains "$out" "every step was already applied: nothing to do"
! grep -qF "$tree/" /proc/self/mountinfo || fail "mounts left under the root directory"

# 5. Secrets a step leaves that every clone would share: ssh host keys are refused without
# cloud-init to replace them at first boot; with it, they go, and so does systemd's random seed.
cat > "$dir/ssh.yaml" <<'YAML'
name: image-ssh-keys
base: {os: debian, version: "12", min_kernel: 6.1.0}
steps:
  - file: {name: host-key, path: /etc/ssh/ssh_host_ed25519_key, content: "KEY\n", mode: "0600"}
  - file: {name: host-key-pub, path: /etc/ssh/ssh_host_ed25519_key.pub, content: "PUB\n"}
  - file: {name: seed, path: /var/lib/systemd/random-seed, content: "SEED\n", mode: "0600"}
YAML
capture "$CCBAKE" --cache "$dir/cache" bake "$dir/ssh.yaml" --rootfs "$tree"
assert_rc 1
assert_contains "$out" "post-check failed: /etc/ssh/ssh_host_ed25519_key is in the image and nothing makes new host keys at first boot (no cloud-init)"
mkdir -p "$tree/usr/bin" && printf '#!/bin/sh\n' >"$tree/usr/bin/cloud-init"  # what the check looks for
capture "$CCBAKE" --cache "$dir/cache" bake "$dir/ssh.yaml" --rootfs "$tree"
assert_rc 0
for f in etc/ssh/ssh_host_ed25519_key etc/ssh/ssh_host_ed25519_key.pub var/lib/systemd/random-seed; do
    [ ! -e "$tree/$f" ] || fail "/$f is left in the baked root"
    assert_contains "$(cat "$tree/usr/share/ccbake/manifest.json")" "removed /$f" "the manifest's content.normalised"
done

assert_nothing_left "$dir"
assert_eq "$(sha256sum "$base" | cut -d' ' -f1)" "$base_sum" "input checksum"
echo "image bake: outputs, journal, manifest, re-bake and --rootfs as expected"
