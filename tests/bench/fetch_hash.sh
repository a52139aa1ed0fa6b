#!/bin/bash
# Verification throughput on a 1 GiB file: ccbake (md5 + sha256, two threads) against md5sum
# alone and against md5sum then sha256sum, all on the same file in the same run, best of 3.
# Files live on tmpfs so the disk is not measured. Usage: CCBAKE=build/ccbake tests/bench/fetch_hash.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
CCBAKE="${CCBAKE:-$root/build/ccbake}"
SIZE_MIB="${SIZE_MIB:-1024}"
work="$(mktemp -d /dev/shm/ccbake-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
head -c "$((SIZE_MIB << 20))" /dev/urandom >"$work/blob"
cat >"$work/r.yaml" <<YAML
name: bench
base: {os: debian, version: "12", min_kernel: 6.1.0}
artifacts:
  blob: {url: "file://$work/blob", md5: "$(md5sum "$work/blob" | cut -c1-32)"}
steps:
  - file: {path: /etc/motd, content: "bench\n"}
YAML

best() {  # best wall time in seconds of 3 runs of a command
    local b=999999 t
    for _ in 1 2 3; do
        /usr/bin/time -o "$work/time" -f %e "$@" >/dev/null 2>&1
        t="$(tail -1 "$work/time")"
        b="$(python3 -c "print(min($b, $t))")"
    done
    echo "$b"
}
ratio() { python3 -c "print(f'{$1 / $2:.2f}x')"; }
mbps() { python3 -c "print(f'{$SIZE_MIB / $1:.0f} MiB/s')"; }

md5="$(best md5sum "$work/blob")"
both="$(best sh -c 'md5sum "$1" && sha256sum "$1"' sh "$work/blob")"
"$CCBAKE" --cache "$work/cache" fetch "$work/r.yaml" 2>/dev/null            # into the cache once
reverify="$(best "$CCBAKE" --cache "$work/cache" fetch --reverify "$work/r.yaml")"
rm -rf "$work/cache"
fetch_file="$(best sh -c 'rm -rf "$1/cache"; "$2" --cache "$1/cache" fetch "$1/r.yaml"' sh "$work" "$CCBAKE")"

echo "file: ${SIZE_MIB} MiB on tmpfs; $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
printf '%-44s %8ss  %12s  %s\n' "md5sum" "$md5" "$(mbps "$md5")" "1.00x"
printf '%-44s %8ss  %12s  %s\n' "md5sum then sha256sum" "$both" "$(mbps "$both")" "$(ratio "$md5" "$both")"
printf '%-44s %8ss  %12s  %s\n' "ccbake fetch --reverify (md5+sha256)" "$reverify" "$(mbps "$reverify")" "$(ratio "$md5" "$reverify")"
printf '%-44s %8ss  %12s  %s\n' "ccbake fetch file:// (copy+md5+sha256+fsync)" "$fetch_file" "$(mbps "$fetch_file")" "$(ratio "$md5" "$fetch_file")"
echo "ratios: md5sum time / tool time (higher is faster; 1.00x = as fast as md5sum alone)"
