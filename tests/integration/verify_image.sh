#!/bin/bash
# The content digest and `ccbake verify`: a bake records the digest of the root's content in
# its manifest and lists the content beside the output; verify of the output (raw and qcow2)
# matches and writes nothing; two bakes of one recipe on one base have the same digest; one
# changed byte in one file, or a changed mode, makes verify name that path and exit 1; a file
# that is no image exits 3; a manifest without a digest is a usage error. `ccbake diff` names
# exactly what one changed step changed (the step, the file), and nothing between two bakes of
# the same recipe.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/image_helpers.bash"
make_scratch
shell_image_recipe verify-test <<'EOF'
  - file: {path: /etc/motd, content: "confidential image\n"}
  - file: {path: /opt/tool/run.sh, content: "#!/bin/sh\necho hi\n", mode: "0755"}
  - run: {argv: [/bin/sh, -c, "ln -s /opt/tool/run.sh /usr/bin/tool"], creates: /usr/bin/tool}
EOF
capture "${cc[@]}" bake "$dir/r.yaml" --image "$in" --output "$dir/out/a.raw"
assert_rc 0
capture "${cc[@]}" bake "$dir/r.yaml" --image "$in" --output "$dir/out/b.qcow2"
assert_rc 0
digest_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["content"]["sha256"])' "$1"; }
a="$(digest_of "$dir/out/a.raw.manifest.json")"
b="$(digest_of "$dir/out/b.qcow2.manifest.json")"
[[ "$a" =~ ^[0-9a-f]{64}$ ]] || fail "no content digest in the manifest: $a"
assert_eq "$b" "$a" "content digest of a second bake of the same recipe and base"
# The list beside the output is what the digest covers, and it names the steps' files.
assert_eq "$(sha256sum <"$dir/out/a.raw.content" | cut -d' ' -f1)" "$a" "digest of the content list"
list="$(cat "$dir/out/a.raw.content")"
assert_contains "$list" " f 0755 0:0 18 /opt/tool/run.sh"
assert_contains "$list" " l 0777 0:0 0 /usr/bin/tool -> /opt/tool/run.sh"
assert_not_contains "$list" "/usr/share/ccbake/manifest.json" "the manifest is left out of its own digest"
assert_not_contains "$list" "/var/lib/ccbake/journal.json" "the journal is left out"

# verify: raw and qcow2, each against its own manifest and against the other bake's.
before="$(sha256sum "$dir/out/a.raw" "$dir/out/b.qcow2")"
capture "$CCBAKE" verify "$dir/out/a.raw"
assert_rc 0
assert_contains "$out" "matches"
capture "$CCBAKE" verify "$dir/out/b.qcow2" --manifest "$dir/out/a.raw.manifest.json"
assert_rc 0
assert_eq "$(sha256sum "$dir/out/a.raw" "$dir/out/b.qcow2")" "$before" "verify left the images as they were"
assert_nothing_left "$dir/out"

# One changed byte in one file, through a loop mount: verify names the file and exits 1.
cp "$dir/out/a.raw" "$dir/out/c.raw"
cp "$dir/out/a.raw.manifest.json" "$dir/out/c.raw.manifest.json"
cp "$dir/out/a.raw.content" "$dir/out/c.raw.content"
sed -i 's/"a.raw.content"/"c.raw.content"/' "$dir/out/c.raw.manifest.json"
mkdir -p "$dir/mnt"
unshare -m bash -euc '
    mount -o loop,offset="$2" "$1" "$3"
    printf X | dd of="$3/etc/motd" bs=1 seek=3 conv=notrunc status=none
    chmod 0700 "$3/opt/tool/run.sh"
    umount "$3"' _ "$dir/out/c.raw" "$(part_offset "$dir/out/c.raw" 2)" "$dir/mnt"
capture "$CCBAKE" verify "$dir/out/c.raw"
assert_rc 1
assert_contains "$out" "DIFFERS"
assert_contains "$out" "content  /etc/motd"
assert_contains "$out" "mode 0755 -> 0700 /opt/tool/run.sh"
capture "$CCBAKE" --json verify "$dir/out/c.raw"
assert_rc 1
python3 - "$out" <<'PY' || fail "verify --json: $out"
import json, sys
j = json.loads(sys.argv[1])
assert j["match"] is False and j["expected"] != j["actual"], j
assert {c["path"] for c in j["changes"]} == {"/etc/motd", "/opt/tool/run.sh"}, j["changes"]
PY
# Without the list beside, the digest still tells, and the output says why no path is named.
rm "$dir/out/c.raw.content"
capture "$CCBAKE" verify "$dir/out/c.raw"
assert_rc 1
assert_contains "$out" "cannot be named"

# diff: two bakes of one recipe (an image and a manifest) do not differ; a recipe with one
# step changed differs in that step and that file, and in nothing else.
capture "$CCBAKE" diff "$dir/out/a.raw.manifest.json" "$dir/out/b.qcow2"
assert_rc 0
assert_contains "$out" "no difference"
sed 's/confidential image/confidential image, changed/' "$dir/r.yaml" >"$dir/r2.yaml"
capture "${cc[@]}" bake "$dir/r2.yaml" --image "$in" --output "$dir/out/d.raw"
assert_rc 0
capture "$CCBAKE" diff "$dir/out/a.raw.manifest.json" "$dir/out/d.raw.manifest.json"
assert_rc 1
assert_contains "$out" "step     file-1: file "
assert_contains "$out" "file     /etc/motd: size 19 -> 28"
assert_eq "$(grep -c '^step\|^file\|^artifact\|^package' <<<"$out")" "2" "diff lines: $out"
capture "$CCBAKE" --json diff "$dir/out/a.raw" "$dir/out/d.raw"
assert_rc 1
python3 - "$out" <<'PY' || fail "diff --json of two images: $out"
import json, sys
j = json.loads(sys.argv[1])
assert j["same"] is False
assert [(c["kind"], c["name"]) for c in j["changes"]] == [("step", "file-1"), ("file", "/etc/motd")], j
PY
assert_nothing_left "$dir/out"

# Not an image: exit 3. A manifest without a digest: exit 2, and why.
head -c 1048576 /dev/urandom >"$dir/out/garbage.raw"
cp "$dir/out/a.raw.manifest.json" "$dir/out/garbage.raw.manifest.json"
capture "$CCBAKE" verify "$dir/out/garbage.raw"
assert_rc 3
python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); del m["content"]; json.dump(m, open(sys.argv[1], "w"))' "$dir/out/garbage.raw.manifest.json"
capture "$CCBAKE" verify "$dir/out/garbage.raw"
assert_rc 2
assert_contains "$out" "records no content digest"
assert_nothing_left "$dir/out"
echo "verify OK (content sha256 $a)"
