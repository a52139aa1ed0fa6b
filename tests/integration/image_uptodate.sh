#!/bin/bash
# A bake whose output is up to date does nothing: OUT and OUT.manifest.json exist, OUT is no
# newer than its manifest, and the manifest records this input's digest, this recipe's hash,
# this ccbake and the asked format. --force bakes again; a changed recipe, a changed input or
# an output changed after its bake is baked again.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/image_helpers.bash"
make_scratch
shell_image_recipe uptodate-test <<'EOF'
  - file: {path: /etc/motd, content: "baked\n"}
EOF
out_file="$dir/out/o.raw"
stamp() { stat -c %Y.%i "$out_file"; }
capture "${cc[@]}" bake "$dir/r.yaml" --image "$in" --output "$out_file"
assert_rc 0
first="$(stamp)"

logs_before="$(ls "$dir/cache/logs" | wc -l)"
capture "${cc[@]}" bake "$dir/r.yaml" --image "$in" --output "$out_file"
assert_rc 0
assert_contains "$out" "is up to date"
assert_eq "$(ls "$dir/cache/logs" | wc -l)" "$logs_before" "log folders after an up-to-date bake"
assert_not_contains "$out" "==> stage" "an up-to-date output was staged again"
assert_eq "$(stamp)" "$first" "the up-to-date output was rewritten"

sleep 1.1 # a new output gets a new modification time
capture "${cc[@]}" bake "$dir/r.yaml" --image "$in" --output "$out_file" --force
assert_rc 0
assert_not_contains "$out" "is up to date"
forced="$(stamp)"
[ "$forced" != "$first" ] || fail "--force did not bake again"

# Another format of the same path, a changed recipe, an output touched after its bake.
capture "${cc[@]}" bake "$dir/r.yaml" --image "$in" --output "$out_file" --format qcow2
assert_rc 0
assert_not_contains "$out" "is up to date"
capture "${cc[@]}" bake "$dir/r.yaml" --image "$in" --output "$out_file" --format raw
assert_rc 0
sed -i 's/baked/baked again/' "$dir/r.yaml"
capture "${cc[@]}" bake "$dir/r.yaml" --image "$in" --output "$out_file"
assert_rc 0
assert_not_contains "$out" "is up to date"
assert_eq "$(root_cat "$out_file" /etc/motd)" "baked again" "motd after the changed recipe"
touch -d '+1 minute' "$out_file"
capture "${cc[@]}" bake "$dir/r.yaml" --image "$in" --output "$out_file"
assert_rc 0
assert_not_contains "$out" "is up to date" "an output changed after its bake"
# A changed input (one byte in the unused gap before the first partition) is another base.
cp "$in" "$dir/in2.raw"
printf 'x' | dd of="$dir/in2.raw" bs=1 seek=$((1024 * 1024 - 1)) conv=notrunc status=none
capture "${cc[@]}" bake "$dir/r.yaml" --image "$dir/in2.raw" --output "$out_file"
assert_rc 0
assert_not_contains "$out" "is up to date" "another input"
capture "${cc[@]}" bake "$dir/r.yaml" --image "$dir/in2.raw" --output "$out_file"
assert_contains "$out" "is up to date"
echo "up-to-date outputs are left alone; --force, recipe, format, input and output changes bake again"
