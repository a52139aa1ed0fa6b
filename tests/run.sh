#!/bin/bash
# Runs the unit tests (normal and sanitizer builds), every tests/integration/*.sh, and some of
# them again with the sanitizer build.
# Files named lib.sh and *_lib.sh (or ending in .bash) are sourced by tests, not run.
# An integration test exits 0 to pass, 77 to skip (it says why), anything else to fail.
# Under CI=true a skip is a failure: CI installs everything the suite needs (ci/bootstrap.sh),
# so a test that cannot run there hides a defect.
# Usage: tests/run.sh [PATTERN]   (only integration tests whose name contains PATTERN)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
: "${CCBAKE:=$root/build/ccbake}" "${CCBAKE_ASAN:=$root/build-asan/ccbake}" "${CCBAKE_SRC:=$root}"
: "${CCBAKE_TEST_CACHE:=/var/cache/ccbake-tests}"
export CCBAKE CCBAKE_ASAN CCBAKE_SRC CCBAKE_TEST_CACHE
pattern="${1:-}"
logs="$(mktemp -d /tmp/ccbake-tests.XXXXXX)"
# Every test's scratch space (tests/integration/lib.sh), removed when the run ends.
CCBAKE_TEST_SCRATCH="$(mktemp -d /var/tmp/ccbake-tests-scratch.XXXXXX)"
export CCBAKE_TEST_SCRATCH
trap 'rm -rf --one-file-system "$CCBAKE_TEST_SCRATCH"' EXIT
passed=0 failed=0 skipped=0 failures=() skips=()

record() {  # name status log
    local name="$1" status="$2" log="$3"
    if [ "$status" -eq 0 ]; then
        passed=$((passed + 1)); echo "PASS  $name"
    elif [ "$status" -eq 77 ] && [ "${CI:-}" = true ]; then
        failed=$((failed + 1)); failures+=("$name"); echo "FAIL  $name (skipped under CI=true: $(tail -n1 "$log"))"
    elif [ "$status" -eq 77 ]; then
        skipped=$((skipped + 1)); skips+=("$name: $(tail -n1 "$log")"); echo "SKIP  $name: $(tail -n1 "$log")"
    else
        failed=$((failed + 1)); failures+=("$name"); echo "FAIL  $name (exit $status)"
        tail -n 40 "$log" | sed 's/^/      /'
    fi
}

if [ -z "$pattern" ]; then
    for bin in "$(dirname "$CCBAKE")/ccbake_unit" "$(dirname "$CCBAKE_ASAN")/ccbake_unit"; do
        [ -x "$bin" ] || continue
        name="unit ($(basename "$(dirname "$bin")"))"
        start=$SECONDS
        "$bin" >"$logs/unit.log" 2>&1; status=$?
        record "$name [$((SECONDS - start))s]" "$status" "$logs/unit.log"
    done
fi

run_integration() {  # test-file label
    local t="$1" label="$2" start=$SECONDS log="$logs/${2// /-}.log" status
    timeout --kill-after=30 1800 bash "$t" >"$log" 2>&1; status=$?
    record "$label [$((SECONDS - start))s]" "$status" "$log"
}
for t in "$root"/tests/integration/*.sh; do
    [ -e "$t" ] || continue
    name="$(basename "$t" .sh)"
    case "$name" in lib|*_lib) continue ;; esac  # sourced by tests, not tests
    [ -n "$pattern" ] && [[ "$name" != *"$pattern"* ]] && continue
    run_integration "$t" "$name"
done

# Tests that drive the binary with hostile or broken input run once more with the sanitizer
# build (ASan/UBSan): the fetch faults, the lock and cache, a hostile image root, and the
# archive refusals and install failures, and verify and diff reading images. (recipe_corpus and
# fuzz_corpus use both builds.)
asan_tests=(fetch_basic fetch_faults fetch_lock steps_confinement steps_install_failures verify_image)
if [ -x "$CCBAKE_ASAN" ]; then
    for name in "${asan_tests[@]}"; do
        [ -n "$pattern" ] && [[ "$name" != *"$pattern"* ]] && continue
        CCBAKE="$CCBAKE_ASAN" run_integration "$root/tests/integration/$name.sh" "$name (asan)"
    done
elif [ "${CI:-}" = true ] && [ -z "$pattern" ]; then
    failed=$((failed + 1)); failures+=("asan"); echo "FAIL  sanitizer runs: $CCBAKE_ASAN is missing (ci/build.sh asan)"
fi

echo
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]} (logs in $logs)"
for s in "${skips[@]}"; do echo "skipped: $s"; done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
