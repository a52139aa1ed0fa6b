#!/bin/bash
# What `bake --rootfs` prints into a log that is not a terminal (CI, `| tee`): plain text, one
# line per event (phases, fetched artifacts, the steps' progress and outcomes), with no JSON
# object, no carriage return and no escape sequence. -v adds each command a step runs in the
# image. --json prints JSON events only, one per line, on stdout and stderr, -v or not.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/rootfs_lib.bash"

head -c 300000 /dev/urandom >"$work/blob.bin"
cat >"$work/recipe.yaml" <<YAML
name: progress
base: {os: debian, version: "12", min_kernel: 6.1.0}
artifacts:
  blob:
    url: "file://$work/blob.bin"
    md5: "$(md5sum "$work/blob.bin" | cut -c1-32)"
steps:
  - run:
      name: hello
      argv: [/bin/sh, -c, "echo hello > /var/tmp/hello"]
YAML
bake() {  # CACHE [global options...]: bakes the recipe into $root again, output in $work/out, $work/err
    local cache="$1"; shift
    rm -f "$root/var/lib/ccbake/journal.json"
    set +e
    timeout 300 "$CCBAKE" --cache "$cache" "$@" bake "$work/recipe.yaml" --rootfs "$root" \
        --log-dir "$work/logs" >"$work/out" 2>"$work/err"
    rc=$?
    set -e
    out="$(cat "$work/out" "$work/err")"
}

echo "-- piped: plain text, the step's progress, no commands"
bake "$work/cache"
assert_rc 0
assert_plain_log "$out" "bake output in a log"
assert_contains "$out" "==> fetch"
grep -Eq '^blob +[0-9.]+ KiB .* done$' "$work/err" || fail "no line for the downloaded artifact: $out"
assert_contains "$out" "    [1/1] hello: /bin/sh -c echo hello > /var/tmp/hello" "the step's progress"
assert_contains "$out" "    [1/1] hello (run): applied"
assert_not_contains "$out" '$ /bin/sh' "output without -v"

echo "-- piped with -v: each command the step runs"
bake "$work/cache" -v
assert_rc 0
assert_plain_log "$out" "bake -v output in a log"
assert_contains "$out" "    [1/1] hello: \$ /bin/sh -c echo hello > /var/tmp/hello" "the step's command"
assert_contains "$out" "    [1/1] hello (run): applied"

echo "-- --json (and -v): JSON events only, the schema unchanged"
bake "$work/cache-json" --json -v
assert_rc 0
events="$(json_events "$work/out")"
assert_eq "$(sort -u <<<"$events" | tr '\n' ' ')" "info phase-end phase-start result step " "bake events"
assert_eq "$(json_events "$work/err" | tr '\n' ' ')" "start done summary " "fetch events"
python3 - "$work/out" <<'PY' || fail "the step's progress is not an info event: $(cat "$work/out")"
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
assert {"event": "info", "phase": "steps", "message": "[1/1] hello: /bin/sh -c echo hello > /var/tmp/hello"} in events
step = next(e for e in events if e["event"] == "step")
assert step["name"] == "hello" and step["status"] == "applied", step
PY
echo "progress output ok"
