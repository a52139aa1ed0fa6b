#!/bin/bash
# `ccbake verify` of the demo image against the time to read the same tree: the baseline is
# `cat` of every file of the image's root, mounted read-only, to /dev/null; a second reference
# is `sha256sum` of every file (what a user checking the files by hand runs). Each is timed
# with the page cache dropped (cold) and then warm, best of 3. Prints seconds and ratios
# (verify / cat); asserts nothing.
# Usage: tests/bench/verify_bench.sh [RAW-IMAGE]   (default: bakes the demo into a raw image)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
source "$root/ci/demo-setup.bash"
work="$(mktemp -d /var/tmp/ccbake-verify-bench.XXXXXX)"
server_pid=
cleanup() {
    umount "$work/mnt" 2>/dev/null || true
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

image="${1:-}"
if [ -z "$image" ]; then
    demo_setup "$work" >"$work/setup.log" 2>&1
    "$CCBAKE" --cache "$work/cache" bake "$recipe" --image "$base" --output "$work/demo.raw" \
        --format raw "${sets[@]}" >"$work/bake.log" 2>&1
    image="$work/demo.raw"
fi
manifest="$image.manifest.json"
offset=$(( $(partx -g -o START -n 1 "$image") * 512 ))
mkdir -p "$work/mnt"
mount -o ro,loop,noload,offset="$offset" "$image" "$work/mnt"
files="$(find "$work/mnt" -xdev -type f | wc -l)"
bytes="$(du -sb --exclude=./proc "$work/mnt" | cut -f1)"

drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); awk "BEGIN{print $t1 - $t0}"; }
read_all() { find "$work/mnt" -xdev -type f -print0 | xargs -0 cat >/dev/null; }
hash_all() { find "$work/mnt" -xdev -type f -print0 | xargs -0 sha256sum >/dev/null; }
verify() { "$CCBAKE" verify "$image" --manifest "$manifest"; }
"$CCBAKE" verify "$image" --manifest "$manifest" >/dev/null || { echo "the image does not verify" >&2; exit 1; }

declare -A cold warm
for what in read_all hash_all verify; do
    drop; cold[$what]="$(seconds "$what")"
    best=
    for _ in 1 2 3; do
        t="$(seconds "$what")"
        if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best="$t"; fi
    done
    warm[$what]="$best"
done
printf 'image: %s, %d files, %d MiB in its root; %d CPUs: %s\n' "$(basename "$image")" "$files" \
    $((bytes / 1048576)) "$(nproc)" "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1)"
printf '%-44s %9s %9s %12s\n' "" cold warm "warm ratio"
for what in read_all hash_all verify; do
    label="$what"
    case "$what" in
        read_all) label="cat of every file (baseline)" ;;
        hash_all) label="sha256sum of every file" ;;
        verify) label="ccbake verify (mount, list, sha256, compare)" ;;
    esac
    printf '%-44s %8.2fs %8.2fs %11.2fx\n' "$label" "${cold[$what]}" "${warm[$what]}" \
        "$(awk "BEGIN{print ${warm[$what]} / ${warm[read_all]}}")"
done
