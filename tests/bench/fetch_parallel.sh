#!/bin/bash
# Four 256 MiB artifacts from the loopback server with a per-connection rate limit: ccbake
# fetch (parallel, verifying while downloading) against the vendor's procedure (curl -o, then
# md5sum, one file after the other), and against 4 parallel curls that verify nothing (what the
# server and the machine allow at best). Then peak RSS of ccbake fetching a 1 GiB artifact.
# Usage: CCBAKE=build/ccbake tests/bench/fetch_parallel.sh   (RATE_MIB per connection, default 32)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
CCBAKE="${CCBAKE:-$root/build/ccbake}"
RATE_MIB="${RATE_MIB:-32}" EACH_MIB="${EACH_MIB:-256}" BIG_MIB="${BIG_MIB:-1024}"
work="$(mktemp -d /dev/shm/ccbake-bench.XXXXXX)"
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/srv"
start_server() {  # RATE_BYTES
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    rm -f "$work/port"
    python3 "$root/tests/server/artifact_server.py" --root "$work/srv" --port-file "$work/port" \
        --max-seconds 600 --rate "$1" &
    server=$!
    for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
    base="http://127.0.0.1:$(cat "$work/port")"
}
recipe() {  # FILE NAME...
    local f="$1" n; shift
    {
        echo "name: bench"
        echo "base: {os: debian, version: \"12\", min_kernel: 6.1.0}"
        echo "artifacts:"
        for n in "$@"; do echo "  $n: {url: \"$base/$n.bin\", md5: \"$(md5sum "$work/srv/$n.bin" | cut -c1-32)\"}"; done
        echo "steps:"
        echo "  - file: {path: /etc/motd, content: \"bench\\n\"}"
    } >"$f"
}
secs() { python3 -c "import time; print(time.monotonic())"; }

for i in 1 2 3 4; do head -c "$((EACH_MIB << 20))" /dev/urandom >"$work/srv/a$i.bin"; done
start_server "$((RATE_MIB << 20))"
recipe "$work/four.yaml" a1 a2 a3 a4

t0="$(secs)"
for i in 1 2 3 4; do
    curl -fsS -o "$work/dl-a$i.bin" "$base/a$i.bin"
    md5sum "$work/dl-a$i.bin" >/dev/null
done
t1="$(secs)"
"$CCBAKE" --cache "$work/cache" fetch --jobs 4 "$work/four.yaml" 2>/dev/null
t2="$(secs)"
pids=()
for i in 1 2 3 4; do curl -fsS -o /dev/null "$base/a$i.bin" & pids+=($!); done
wait "${pids[@]}"
t3="$(secs)"
single="$(python3 -c "print($EACH_MIB / $RATE_MIB)")"
seq_s="$(python3 -c "print(f'{$t1 - $t0:.1f}')")"
par_s="$(python3 -c "print(f'{$t2 - $t1:.1f}')")"
ceil_s="$(python3 -c "print(f'{$t3 - $t2:.1f}')")"
rm -rf "$work/cache" "$work"/dl-*

head -c "$((BIG_MIB << 20))" /dev/urandom >"$work/srv/big.bin"
start_server 0
recipe "$work/big.yaml" big
/usr/bin/time -o "$work/rss" -f %M "$CCBAKE" --cache "$work/cache" fetch "$work/big.yaml" >/dev/null 2>&1
rss="$(tail -1 "$work/rss")"

echo "4 x $EACH_MIB MiB at $RATE_MIB MiB/s per connection (one transfer alone: ${single}s); $(nproc) CPUs"
printf '%-48s %7ss  %s\n' "vendor procedure: curl -o then md5sum, each" "$seq_s" "1.00x"
printf '%-48s %7ss  %s\n' "ccbake fetch --jobs 4 (md5+sha256 verified)" "$par_s" "$(python3 -c "print(f'{$seq_s / $par_s:.2f}x')")"
printf '%-48s %7ss  %s\n' "ceiling: 4 parallel curl -o /dev/null, no hashing" "$ceil_s" "$(python3 -c "print(f'{$seq_s / $ceil_s:.2f}x')")"
echo "peak RSS of ccbake fetch of a $BIG_MIB MiB artifact: $((rss / 1024)) MiB"
