# Helpers for the artifact download tests (sourced after tests/integration/lib.sh): a scratch
# directory, the loopback artifact server, generated artifacts and recipes that point at them.
# Everything is removed, and the server stopped, when the test ends.

fetch_setup() {
    work="$(mktemp -d /tmp/ccbake-fetch.XXXXXX)"
    srv="$work/srv" cache="$work/cache"
    mkdir -p "$srv"
    SERVER_PID=""
    trap fetch_cleanup EXIT
}

fetch_cleanup() {
    if [ -n "${SERVER_PID:-}" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ -n "${work:-}" ]; then
        umount "$work/small" 2>/dev/null || true
        rm -rf "$work"
    fi
}

# start_server [server options...]: serves $srv on 127.0.0.1; sets $PORT, $BASE, $LOG.
start_server() {
    LOG="$work/requests.jsonl"
    : >"$LOG"
    python3 "$CCBAKE_SRC/tests/server/artifact_server.py" --root "$srv" --port-file "$work/port" \
        --log "$LOG" --max-seconds 240 "$@" &
    SERVER_PID=$!
    for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
    [ -s "$work/port" ] || fail "the artifact server did not start"
    PORT="$(cat "$work/port")"
    BASE="http://127.0.0.1:$PORT"
}

# fault PATH KIND[:ARG] — switch a fault on for one path of the running server.
fault() { curl -fsS "$BASE/_ctl/fault?path=$1&kind=$2" >/dev/null; }
clear_faults() { curl -fsS "$BASE/_ctl/clear" >/dev/null; }

# make_artifact NAME BYTES — random content under $srv.
make_artifact() {
    mkdir -p "$(dirname "$srv/$1")"
    head -c "$2" /dev/urandom >"$srv/$1"
}
md5_of() { md5sum "$1" | cut -c1-32; }
sha256_of() { sha256sum "$1" | cut -c1-64; }

# write_recipe FILE NAME=URL[|md5:HEX|none][|MIRROR,MIRROR] ... — a recipe whose artifacts are those
# given; by default the md5 of the file the URL names under $srv, "|md5:HEX" a given one,
# "|none" no checksum; a third field lists mirrors, comma-separated.
write_recipe() {
    local file="$1"; shift
    {
        echo "name: fetch-test"
        echo "base: {os: debian, version: \"12\", min_kernel: 6.1.0}"
        echo "artifacts:"
        local spec name url sum mirrors local
        for spec in "$@"; do
            name="${spec%%=*}"; spec="${spec#*=}"
            IFS='|' read -r url sum mirrors <<<"$spec"
            case "$url" in
                file://*) local="${url#file://}" ;;
                *) local="$srv/${url#*://*/}" ;;
            esac
            echo "  $name:"
            echo "    url: \"$url\""
            case "$sum" in
                none) ;;
                md5:*) echo "    md5: \"${sum#md5:}\"" ;;
                *) echo "    md5: \"$(md5_of "$local")\"" ;;
            esac
            [ -n "$mirrors" ] && echo "    mirrors: [$(sed 's/[^,]*/"&"/g' <<<"$mirrors")]"
        done
        echo "steps:"
        echo "  - file: {path: /etc/motd, content: \"test\\n\"}"
    } >"$file"
}

# requests PATH [STATUS] — how many requests the server logged for a path (and status), read
# once the server has finished (and logged) every request it was serving.
requests() {
    python3 - "$LOG" "$1" "${2:-}" "$BASE" <<'PY'
import json, sys, urllib.request
log, path, status, base = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
urllib.request.urlopen(base + "/_ctl/idle", timeout=30).read()
n = 0
for line in open(log):
    e = json.loads(line)
    if e["path"] == path and (not status or str(e["status"]) == status):
        n += 1
print(n)
PY
}

# cached_object FILE — the cache path a file's content would have; fails if absent.
assert_cached() {
    local obj="$cache/objects/sha256/$(sha256_of "$1")"
    [ -f "$obj" ] || fail "$1 is not in the cache (no $obj)"
    cmp -s "$obj" "$1" || fail "cached $obj differs from $1"
}
assert_not_in_cache() {  # FILE: no cached object has this file's content
    [ ! -e "$cache/objects/sha256/$(sha256_of "$1")" ] || fail "$1 is in the cache"
}
assert_not_cached() {
    local n
    n="$( (find "$cache/objects" -type f ! -name '*.stamp' 2>/dev/null || true) | wc -l)"
    [ "$n" -eq 0 ] || fail "the cache holds $n file(s); expected none: $(ls "$cache/objects/sha256")"
}
assert_no_partial() {
    local n
    n="$( (find "$cache" -name '*.partial' 2>/dev/null || true) | wc -l)"
    [ "$n" -eq 0 ] || fail "a partial download was left behind: $(find "$cache" -name '*.partial')"
}
