#!/bin/bash
# Preflight rejects, with exit 3 and one clear line each, every input ccbake cannot bake —
# before anything is copied — and accepts a GPT+ESP disk, raw or qcow2. The input is never
# written and a rejected bake leaves no output.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/image_helpers.bash"
make_scratch
bash "$CCBAKE_SRC/tests/fixtures/synthetic-images.sh" "$dir/in"
cat > "$dir/debian.yaml" <<'YAML'
name: preflight-debian
base: {os: debian, version: "12", min_kernel: 6.1.0}
steps:
  - file: {path: /etc/motd, content: "baked\n"}
YAML
cat > "$dir/ubuntu.yaml" <<'YAML'
name: preflight-ubuntu
base: {os: ubuntu, version: "22.04", min_kernel: 6.6.0}
steps:
  - file: {path: /etc/motd, content: "baked\n"}
YAML
(cd "$dir/in" && sha256sum *) > "$dir/before.sum"
mkdir "$dir/out"

reject() {  # RECIPE INPUT EXPECTED-MESSAGE
    capture "$CCBAKE" --cache "$dir/cache" bake "$dir/$1" --image "$dir/in/$2" --output "$dir/out/$2.out.raw"
    assert_rc 3
    assert_contains "$out" "$3" "rejection of $2"
    [ "$(grep -c 'error:' <<<"$out")" -eq 1 ] || fail "expected one error line for $2: $out"
    [ ! -e "$dir/out/$2.out.raw" ] || fail "$2: an output appeared for a rejected input"
}
reject debian.yaml mbr.raw "only an MBR (BIOS) partition table"
reject debian.yaml no-esp.raw "no EFI System Partition"
reject debian.yaml no-loader.raw "has no EFI boot loader"
reject debian.yaml windows.raw "is a Windows disk"
reject debian.yaml empty.raw "is empty (0 bytes)"
reject debian.yaml truncated.qcow2 "qcow2 image"
reject debian.yaml garbage.bin "is not a disk image: it has no partition table"
reject ubuntu.yaml good.raw "is Debian GNU/Linux 12 (bookworm) (ID=debian VERSION_ID=12), but the recipe bakes ubuntu 22.04"
reject ubuntu.yaml ubuntu-old.raw "has no kernel >= 6.6.0 (found 5.15.0-91-generic) and no step of the recipe installs one"
assert_contains "$out" "hint: add a \`kernel\` step"

# Accepted: raw and qcow2 inputs, raw and qcow2 outputs; the motd is in the output.
for in in good.raw good.qcow2; do
    capture "$CCBAKE" --cache "$dir/cache" bake "$dir/debian.yaml" --image "$dir/in/$in" --output "$dir/out/$in.baked.raw"
    assert_rc 0
    assert_eq "$(root_cat "$dir/out/$in.baked.raw" /etc/motd)" "baked" "motd baked from $in"
done
capture "$CCBAKE" --cache "$dir/cache" bake "$dir/debian.yaml" --image "$dir/in/good.raw" --output "$dir/out/good.qcow2"
assert_rc 0
assert_contains "$(qemu-img info "$dir/out/good.qcow2")" "file format: qcow2"

# The input is only ever opened for reading: a bake from a read-only mount works, raw and qcow2.
mkdir -p "$dir/ro"
mount --bind -o ro "$dir/in" "$dir/ro"
trap 'umount -l "$dir/ro" 2>/dev/null || true; rm -rf "$CCBAKE_TEST_TMP"' EXIT
! touch "$dir/ro/probe" 2>/dev/null || fail "the read-only bind mount is writable"
for in in good.raw good.qcow2; do
    capture "$CCBAKE" --cache "$dir/cache" bake "$dir/debian.yaml" --image "$dir/ro/$in" --output "$dir/out/ro-$in.raw"
    assert_rc 0
done
umount "$dir/ro"

# The output may not be the input.
capture "$CCBAKE" --cache "$dir/cache" bake "$dir/debian.yaml" --image "$dir/in/good.raw" --output "$dir/in/good.raw"
assert_rc 2
assert_contains "$out" "--output is the input image"

(cd "$dir/in" && sha256sum -c --quiet "$dir/before.sum") || fail "an input image was modified"
assert_nothing_left "$dir"
echo "preflight: all rejections and acceptances as expected"
