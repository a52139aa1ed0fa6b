#!/bin/bash
# Every broken recipe under tests/recipes/broken gives exit 2 and exactly the diagnostics in
# its .expected file (file:line:col, source line, caret, note) — with the normal and the
# sanitizer build, so no mistake crashes or trips ASan/UBSan. The real recipes validate clean.
# UPDATE=1 rewrites the .expected files (review the diff before committing).
source "$(dirname "$0")/lib.sh"
corpus="$CCBAKE_SRC/tests/recipes/broken"
[ -x "${CCBAKE_ASAN:-}" ] || [ "${CI:-}" != true ] || fail "the sanitizer build ${CCBAKE_ASAN:-} is missing (ci/build.sh asan)"
count=0
for bin in "$CCBAKE" "${CCBAKE_ASAN:-}"; do
    [ -x "$bin" ] || continue
    for recipe in "$corpus"/*.yaml; do
        name="$(basename "$recipe")"
        expected="${recipe%.yaml}.expected"
        capture bash -c "cd '$corpus' && '$bin' validate '$name' 2>&1 >/dev/null"
        [ "$rc" -eq 2 ] || fail "$name: expected exit 2 from $(basename "$bin"), got $rc:"$'\n'"$out"
        if [ "${UPDATE:-0}" = 1 ]; then
            printf '%s\n' "$out" >"$expected"
        else
            [ -f "$expected" ] || fail "$name has no golden file $expected (run with UPDATE=1)"
            diff -u "$expected" <(printf '%s\n' "$out") || fail "$name: diagnostics differ from $(basename "$expected")"
        fi
        count=$((count + 1))
    done
done
[ "$count" -ge 25 ] || fail "only $count broken recipes checked"
echo "$count broken recipes give exit 2 with the expected diagnostics"

capture "$CCBAKE" validate "$CCBAKE_SRC"/recipes/*.yaml
assert_rc 0
capture "$CCBAKE" plan "$CCBAKE_SRC/recipes/ppcie-8gpu.yaml"
assert_rc 0
assert_contains "$out" "swiotlb=2097152"
# Every step of the vendor's procedure, in the vendor's order.
expected_order=(kernel nvidia_driver deb_install apt_repo apt_install source_build vendor_installer
                source_build json_edit python_venv kernel_cmdline systemd)
steps="$(grep -E '^ +[0-9]+\. ' <<<"$out" | awk '{print $2}')"
pos=0
for kind in "${expected_order[@]}"; do
    line="$(tail -n +$((pos + 1)) <<<"$steps" | grep -n -x -m1 "$kind" | cut -d: -f1)" ||
        fail "plan lacks a $kind step after position $pos:"$'\n'"$steps"
    pos=$((pos + line))
done
echo "plan shows every vendor step in order"
