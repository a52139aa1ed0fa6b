#!/bin/bash
# The fuzzing regression corpus (tests/fuzz/corpus/TARGET/: seeds, hostile inputs and every
# input tests/fuzz/run.sh ever found a bug with) replayed through each fuzz target, with the
# normal and the sanitizer build: none may crash, trip ASan/UBSan, leak, or break the
# target's invariants (for the extractor: nothing outside its destination changes).
source "$(dirname "$0")/lib.sh"
corpus="$CCBAKE_SRC/tests/fuzz/corpus"
bins=("$(dirname "$CCBAKE")/ccbake_fuzz_replay")
asan="$(dirname "${CCBAKE_ASAN:-/nonexistent/x}")/ccbake_fuzz_replay"
if [ -x "$asan" ]; then
    bins+=("$asan")
elif [ "${CI:-}" = true ]; then
    fail "$asan is missing: ci/build.sh asan builds it"
else
    echo "note: no sanitizer build ($asan); replaying with the normal build only"
fi
targets="$("${bins[0]}" --list | cut -d' ' -f1)"
[ -n "$targets" ] || fail "ccbake_fuzz_replay --list names no target"
for t in $targets; do
    [ -n "$(ls -A "$corpus/$t" 2>/dev/null)" ] || fail "no regression corpus for fuzz target $t in $corpus/$t"
done
for bin in "${bins[@]}"; do
    for t in $targets; do
        capture env ASAN_OPTIONS=detect_leaks=1 "$bin" "$t" "$corpus/$t"
        [ "$rc" -eq 0 ] || fail "$(basename "$(dirname "$bin")")/ccbake_fuzz_replay $t: exit $rc:"$'\n'"$(tail -n 40 <<<"$out")"
        echo "$(basename "$(dirname "$bin")"): $(tail -n1 <<<"$out")"
    done
done
for dir in "$corpus"/*/; do
    t="$(basename "$dir")"
    grep -qx "$t" <<<"$targets" || fail "$dir belongs to no fuzz target"
done
