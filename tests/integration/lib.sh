# Shared helpers for integration tests (sourced, not run). Each test is a bash script that
# exits 0 to pass, 77 to skip (printing why as its last line), anything else to fail.
set -euo pipefail
: "${CCBAKE:?run through tests/run.sh or ci/test.sh}"
: "${CCBAKE_SRC:?}" "${CCBAKE_TEST_CACHE:=/var/cache/ccbake-tests}"

fail() { echo "FAILED: $*" >&2; exit 1; }
# A command that stops the test through `set -e` says which one it was and where.
set -E
trap 'ccbake_rc=$?; [[ $- == *e* ]] && echo "FAILED: ${0##*/}:$LINENO: \`$BASH_COMMAND\` exited $ccbake_rc" >&2' ERR
skip() { echo "$*"; exit 77; }
assert_eq() { [ "$1" == "$2" ] || fail "${3:-values differ}: expected '$2', got '$1'"; }
assert_contains() {  # haystack needle [what]
    grep -qF -- "$2" <<<"$1" || fail "${3:-output} does not contain '$2'; got:"$'\n'"$1"
}
assert_not_contains() {
    ! grep -qF -- "$2" <<<"$1" || fail "${3:-output} contains '$2'; got:"$'\n'"$1"
}
# Output for a log that is not a terminal: human text, one line per event, with no JSON object,
# no carriage return and no escape sequence.
assert_plain_log() {  # text [what]
    ! grep -q '^[[:space:]]*{' <<<"$1" || fail "${2:-output} has JSON lines; got:"$'\n'"$1"
    [[ "$1" != *$'\r'* ]] || fail "${2:-output} has carriage returns; got:"$'\n'"$1"
    [[ "$1" != *$'\e'* ]] || fail "${2:-output} has escape sequences; got:"$'\n'"$1"
}
# --json progress: every line one JSON object with an "event"; prints the events' names.
json_events() {  # file
    python3 - "$1" <<'PY' || fail "not JSON events, one per line: $(cat "$1")"
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    assert isinstance(e, dict) and "event" in e, line
    print(e["event"])
PY
}
# Runs a command, capturing stdout+stderr in $out and its exit status in $rc.
capture() { set +e; out="$("$@" 2>&1)"; rc=$?; set -e; }
assert_rc() { [ "$rc" -eq "$1" ] || fail "expected exit $1, got $rc; output:"$'\n'"$out"; }

# All scratch space of one test lives under one folder, removed when the test ends (unless
# the test replaces the EXIT trap).
# Under tests/run.sh it lives in the run's scratch folder, which the runner removes at the end
# even when a test replaced this EXIT trap with its own.
CCBAKE_TEST_TMP="$(mktemp -d "${CCBAKE_TEST_SCRATCH:-/var/tmp}/ccbake-test.XXXXXX")"
trap 'rm -rf "$CCBAKE_TEST_TMP"' EXIT
# scratch: prints a new directory (usable inside $(...)).
scratch() { mktemp -d "$CCBAKE_TEST_TMP/scratch.XXXXXX"; }
# make_scratch: sets $scratch to a new directory under the test's scratch space.
make_scratch() { scratch="$(scratch)"; }
