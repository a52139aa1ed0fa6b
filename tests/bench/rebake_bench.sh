#!/bin/bash
# Re-bakes of the demo recipe (ci/demo.sh's world: the cloud-like base, stand-ins served on
# loopback, Debian packages from the machine's apt sources), each timed in the same run:
#   cold           a fresh cache: downloads, every step, layers stored
#   no-op          the same bake again onto the same output (up to date)
#   last step      the demo with its last step changed: the layer cache restores the rest
#   first step     the demo with its first step changed: no layer applies
#   warm packages  a fresh base and no layers, with the package cache of the bakes above
# Prints seconds and the ratio to the cold bake, with the goals of the re-bake work; asserts
# nothing. Usage: tests/bench/rebake_bench.sh   (root; CCBAKE=path/to/ccbake)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
source "$root/ci/demo-setup.bash"
work="$(mktemp -d /var/tmp/ccbake-rebake-bench.XXXXXX)"
server_pid=
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
demo_setup "$work" >"$work/setup.log" 2>&1

# Two recipes that include the demo and replace one step by name: its first (`kernel`, without
# block_reboot: a step's timeout is not part of its hash) and its last (`demo-gpu-agents`, with
# another unit description).
python3 - "$recipe" "$work" <<'PY'
import sys, yaml
demo, work = sys.argv[1], sys.argv[2]
last = yaml.safe_load(open(demo))["steps"][-1]
last["systemd"]["units"][0]["content"] = last["systemd"]["units"][0]["content"].replace(
    "(demo image)", "(demo image, changed)")
first = {"kernel": {"name": "kernel", "package": "${kernel_package}",
                    "headers_package": "${kernel_headers_package}", "headers": True,
                    "default_boot": True, "block_reboot": False}}
for name, step in (("last", last), ("first", first)):
    yaml.safe_dump({"name": f"demo-{name}-changed", "include": [demo], "steps": [step]},
                   open(f"{work}/{name}.yaml", "w"), sort_keys=False)
PY

seconds=()
bake() {  # LABEL CACHE RECIPE OUTPUT [ARGS...]
    local label="$1" cache="$2" rcp="$3" output="$4"; shift 4
    local t0 t1
    t0=$(date +%s.%N)
    "$CCBAKE" --cache "$cache" bake "$rcp" --image "$base" --output "$output" --format raw \
        "${sets[@]}" "$@" >"$work/$label.log" 2>&1 || { echo "$label failed:"; tail -n 20 "$work/$label.log"; exit 1; }
    t1=$(date +%s.%N)
    seconds+=("$label $(awk "BEGIN{print $t1 - $t0}")")
}
bake cold "$work/cache" "$recipe" "$work/demo.raw"
bake no-op "$work/cache" "$recipe" "$work/demo.raw"
bake "last step" "$work/cache" "$work/last.yaml" "$work/last.raw"
bake "first step" "$work/cache" "$work/first.yaml" "$work/first.raw"
mkdir -p "$work/cache2" && mv "$work/cache/apt" "$work/cache2/apt"
bake "warm packages" "$work/cache2" "$recipe" "$work/warm.raw" --no-layer-cache

grep -h "layer cache:" "$work/last step.log" "$work/first step.log" || true
cold="$(cut -d' ' -f2 <<<"${seconds[0]}")"
printf '%s\n' "demo recipe, $(nproc) CPUs: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1)"
printf '%-16s %9s %9s   %s\n' bake seconds "vs cold" goal
for row in "${seconds[@]}"; do
    label="${row% *}" s="${row##* }"
    case "$label" in
        no-op) goal="under 2 s" ;;
        "last step") goal="at most 0.15x" ;;
        "warm packages") goal="at most 0.60x" ;;
        *) goal="" ;;
    esac
    printf '%-16s %8.2fs %8.2fx   %s\n' "$label" "$s" "$(awk "BEGIN{print $s / $cold}")" "$goal"
done
