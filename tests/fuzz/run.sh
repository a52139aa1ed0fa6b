#!/bin/bash
# Fuzzes ccbake's parsers of untrusted input with libFuzzer (clang from Debian, with
# AddressSanitizer, UndefinedBehaviorSanitizer and leak checking): each target of
# tests/fuzz/targets.cpp runs for SECONDS from a corpus seeded with tests/fuzz/corpus/TARGET
# and the repository's own recipes, units and fixtures. Not part of the test run (it is
# measured in hours, like a benchmark); the test run replays tests/fuzz/corpus instead.
# A crash, leak, timeout or broken invariant is kept under FINDINGS/TARGET/; fix it, then add
# the input to tests/fuzz/corpus/TARGET/ so every later test run replays it.
# Usage: tests/fuzz/run.sh [SECONDS] [TARGET...]   (SECONDS per target, default 300)
#   CCBAKE_FUZZ_DIR  build, corpora and findings (default /var/tmp/ccbake-fuzz; kept, so a
#                    later run goes on from the corpus an earlier one grew)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
seconds="${1:-300}"
shift || true
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: tests/fuzz/run.sh [SECONDS] [TARGET...]" >&2; exit 2; }
work="${CCBAKE_FUZZ_DIR:-/var/tmp/ccbake-fuzz}"
build="$work/build" findings="$work/findings"
all=(recipe jsonc grub systemd gpt deb extract measure)
targets=("${@:-${all[@]}}")
for t in "${targets[@]}"; do
    [[ " ${all[*]} " == *" $t "* ]] || { echo "fuzz: no target $t (targets: ${all[*]})" >&2; exit 2; }
done

if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
    echo "fuzz: installing clang and its libFuzzer runtime" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q clang libclang-rt-dev >/dev/null
fi
echo "fuzz: building the targets with clang (libFuzzer + ASan + UBSan) in $build" >&2
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCCBAKE_FUZZ=ON "${launcher[@]}" >/dev/null
ninja -C "$build" -j "$(nproc)" "${targets[@]/#/ccbake_fuzz_}" >"$work/build.log" 2>&1 ||
    { grep -v '^\[' "$work/build.log" | tail -n 40 >&2; echo "fuzz: build failed ($work/build.log)" >&2; exit 1; }

# Seeds beyond the committed corpus: what the repository already has of each input kind.
seed() {  # target
    local dir="$work/corpus/$1"
    mkdir -p "$dir"
    cp -n "$root/tests/fuzz/corpus/$1/"* "$dir/" 2>/dev/null || true
    case "$1" in
    recipe) find "$root/recipes" "$root/tests/recipes" -name '*.yaml' -exec cp -n {} "$dir/" \; ;;
    jsonc) find "$root/tests/fixtures/qcnl" -type f -name '*.conf' -exec cp -n {} "$dir/" \; ;;
    systemd) find /lib/systemd/system -maxdepth 1 -name '*.service' -type f | head -n 200 |
        xargs -r cp -n -t "$dir/" ;;
    *) ;;
    esac
}

summary=()
found=0
stamp="$work/run-started"
touch "$stamp"  # findings of earlier runs stay, but are not this run's
for t in "${targets[@]}"; do
    seed "$t"
    mkdir -p "$findings/$t"
    log="$work/$t.log"
    echo "fuzz: $t for ${seconds}s" >&2
    # -timeout: one input running over 10 s is a finding (a hang); leaks are findings too.
    set +e
    (cd "$work" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        "$build/ccbake_fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$findings/$t/" "$work/corpus/$t") >"$log" 2>&1
    status=$?
    set -e
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)"
    n="$(find "$findings/$t" -type f -newer "$stamp" | wc -l)"
    found=$((found + n))
    summary+=("$(printf '%-8s %4ss  %10s inputs  corpus %5s  findings %s%s' "$t" "$seconds" "${execs:-?}" \
        "$(find "$work/corpus/$t" -type f | wc -l)" "$n" "$([ "$status" -ne 0 ] && echo " (stopped: exit $status, see $log)")")")
done
echo
printf '%s\n' "${summary[@]}"
if [ "$found" -gt 0 ]; then
    echo "findings of this run under $findings:"
    find "$findings" -type f -newer "$stamp" | sed 's/^/  /'
    exit 1
fi
echo "no findings"
