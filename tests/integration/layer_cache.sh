#!/bin/bash
# The layer cache: a bake stores the image's state after each step; a bake of the recipe with
# its last step changed restores the others and applies only that one, and its output has the
# content digest and manifest of a cold bake (--no-layer-cache); a layer whose bytes were
# altered is detected, removed and not used; a bake killed (-9) or interrupted (SIGINT) while it
# writes a layer leaves no layer that could be used, and `cache gc` removes what it left; two bakes sharing the cache
# at once both succeed and leave layers that verify; `cache ls` lists the layers.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/image_helpers.bash"
make_scratch
export SOURCE_DATE_EPOCH=1700000000  # one `created` for every manifest and SBOM compared here
shell_image_recipe layers <<'EOF2'
  - file: {name: motd, path: /etc/motd, content: "layered\n"}
  - run: {name: tree, argv: [/bin/sh, -c, "mkdir -p /opt/a/b && echo x > /opt/a/f && ln /opt/a/f /opt/a/hard && ln -s f /opt/a/sym && chmod 0700 /opt/a/b"]}
  - run: {name: change-base, argv: [/bin/sh, -c, "rm /bin/true && chmod 0750 /bin/false && mv /opt/a/b /opt/a/c && echo y >> /opt/a/f"]}
  - file: {name: last, path: /etc/last, content: "one\n"}
EOF2
sed 's/content: "one\\n"/content: "two\\n"/' "$dir/r.yaml" >"$dir/r2.yaml"
grep -q 'content: "two' "$dir/r2.yaml" || fail "the changed recipe was not written"
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]])' "$@"; }
same_manifest() {  # A B: equal except when they were made and what they were made into
    python3 - "$1" "$2" <<'PY' || fail "manifests differ: $1 $2"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for m in (a, b):
    del m["created"]; m["content"].pop("list", None)
assert a == b, [k for k in a if a[k] != b.get(k)]
PY
}

# 1. A cold bake stores no layer with --no-layer-cache, and one per step without.
capture "${cc[@]}" bake "$dir/r.yaml" --image "$in" --output "$dir/out/cold.raw" --no-layer-cache
assert_rc 0
[ ! -e "$dir/cache/layers" ] || fail "--no-layer-cache stored layers: $(ls "$dir/cache/layers")"
capture "${cc[@]}" bake "$dir/r.yaml" --image "$in" --output "$dir/out/one.raw"
assert_rc 0
assert_eq "$(ls "$dir/cache/layers" | wc -l)" "4" "layers after a bake of 4 steps"
same_manifest "$dir/out/cold.raw.manifest.json" "$dir/out/one.raw.manifest.json"
capture "${cc[@]}" cache ls
assert_rc 0
assert_contains "$out" "change-base (run)"
assert_contains "$out" "4 layers"

# 2. The last step changed: three steps restored, one applied; the same as a cold bake.
capture "${cc[@]}" bake "$dir/r2.yaml" --image "$in" --output "$dir/out/two.raw"
assert_rc 0
assert_contains "$out" "layer cache: the first 3 of 4 steps restored"
assert_contains "$out" "change-base (run): applied (layer cache)"
capture "${cc[@]}" bake "$dir/r2.yaml" --image "$in" --output "$dir/out/two-cold.raw" --no-layer-cache
assert_rc 0
same_manifest "$dir/out/two-cold.raw.manifest.json" "$dir/out/two.raw.manifest.json"
assert_eq "$(field "$dir/out/two.raw.manifest.json" content sha256)" \
    "$(field "$dir/out/two-cold.raw.manifest.json" content sha256)" "content digest of the layered bake"
assert_eq "$(root_cat "$dir/out/two.raw" /opt/a/f)" "x"$'\n'"y" "a file changed by two steps"
capture "$CCBAKE" verify "$dir/out/two.raw" --manifest "$dir/out/two-cold.raw.manifest.json"
assert_rc 0

# 3. One altered byte in the layer of step 2: reported, removed, that step and the next re-run.
key2="$(python3 -c '
import json, os, sys
d = sys.argv[1]
for k in os.listdir(d):
    if json.load(open(f"{d}/{k}/layer.json"))["step"] == "tree": print(k)' "$dir/cache/layers")"
[ -n "$key2" ] || fail "no layer for step 'tree'"
printf 'Z' | dd of="$dir/cache/layers/$key2/layer.tar" bs=1 seek=700 conv=notrunc status=none
capture "${cc[@]}" bake "$dir/r2.yaml" --image "$in" --output "$dir/out/three.raw"
assert_rc 0
assert_contains "$out" "the layer after step 'tree' is not used: layer.tar has sha256"
assert_contains "$out" "layer cache: the first 1 of 4 steps restored"
assert_eq "$(field "$dir/out/three.raw.manifest.json" content sha256)" \
    "$(field "$dir/out/two-cold.raw.manifest.json" content sha256)" "content digest after a bad layer"
[ -f "$dir/cache/layers/$key2/layer.json" ] || fail "the bake did not store the step's layer again"

# 4. Killed with -9 while it writes a layer (a 200 MiB file makes the write take a while).
cat > "$dir/big.yaml" <<'YAML'
name: layers-big
base: {os: debian, version: "12", min_kernel: 6.1.0}
steps:
  - run: {name: big, argv: [/bin/sh, -c, "mkdir -p /opt && dd if=/dev/zero of=/opt/big bs=1M count=200 status=none && echo done > /opt/big.done"]}
YAML
# Starts the bake in the background ($pid) and returns once it is writing the step's layer.
start_big_bake() {
    "$CCBAKE" --cache "$dir/cache" bake "$dir/big.yaml" --image "$in" --output "$dir/out/big.raw" \
        --disk-size 1GiB >"$dir/big.log" 2>&1 &
    pid=$!
    for _ in $(seq 600); do
        ls -a "$dir/cache/layers" | grep -q '^\.partial-' && return 0
        sleep 0.05
    done
    kill -9 "$pid" 2>/dev/null || true
    fail "no layer was being written: $(cat "$dir/big.log")"
}
start_big_bake
kill -9 "$pid"
{ wait "$pid"; } 2>/dev/null || true
big_keys="$(python3 -c '
import json, os, sys
d = sys.argv[1]
print(sum(1 for k in os.listdir(d) if not k.startswith(".") and json.load(open(f"{d}/{k}/layer.json"))["step"] == "big"))' "$dir/cache/layers")"
assert_eq "$big_keys" "0" "complete layers of the killed bake"
# The killed bake's mounts and loop devices went with its namespace; what remains is its
# unfinished folder, which the next bake ignores and gc removes.
for _ in $(seq 50); do losetup -a | grep -qF "$dir/out" || break; sleep 0.1; done
capture "${cc[@]}" cache gc
assert_rc 0
assert_contains "$out" "removed unfinished layer .partial-"
[ -z "$(ls -A "$dir/cache/layers" | grep '^\.partial-' || true)" ] || fail "gc left an unfinished layer"

# SIGINT while it writes a layer: the bake stops (exit 130) and whatever it leaves is either no
# layer or a whole one that verifies: the next bake uses it or runs the step, and says which.
start_big_bake
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" -eq 130 ] || fail "a bake interrupted while writing a layer exited $rc, not 130: $(cat "$dir/big.log")"
[ ! -e "$dir/out/big.raw" ] || fail "an interrupted bake published its output"
capture "${cc[@]}" bake "$dir/big.yaml" --image "$in" --output "$dir/out/big.raw" --disk-size 1GiB
assert_rc 0
assert_not_contains "$out" "is not used"
[ "$(root_cat "$dir/out/big.raw" /opt/big.done)" = "done" ] || fail "the step's work is missing after an interrupted layer"

# 5. Two bakes sharing the cache at once (fresh layers for both): both succeed, and every
# layer they leave verifies (the next bake restores all four).
rm -rf "$dir/cache/layers"
"${cc[@]}" bake "$dir/r.yaml" --image "$in" --output "$dir/out/p1.raw" >"$dir/p1.log" 2>&1 & p1=$!
"${cc[@]}" bake "$dir/r.yaml" --image "$in" --output "$dir/out/p2.raw" >"$dir/p2.log" 2>&1 & p2=$!
wait "$p1" || fail "the first of two concurrent bakes failed: $(cat "$dir/p1.log")"
wait "$p2" || fail "the second of two concurrent bakes failed: $(cat "$dir/p2.log")"
capture "${cc[@]}" bake "$dir/r.yaml" --image "$in" --output "$dir/out/p3.raw"
assert_rc 0
assert_contains "$out" "layer cache: the first 4 of 4 steps restored"
assert_not_contains "$out" "is not used"
same_manifest "$dir/out/cold.raw.manifest.json" "$dir/out/p3.raw.manifest.json"
assert_nothing_left "$dir/out"
echo "layer cache OK"
