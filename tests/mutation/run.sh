#!/bin/bash
# Mutation testing: applies each mutant of tests/mutation/mutants.txt (a small deliberate bug
# that takes away one promise) to a scratch copy of the working tree, builds it, and runs the
# tests listed for it until one fails. A mutant is killed when a test fails, survived when
# all pass. Before the mutants, the same tests run once on the unmutated copy, which must pass.
# Too slow for every CI run (a build and one or more integration tests per mutant); run it by
# hand, as root, like a benchmark. Prints one line per mutant and `N/M mutants killed`.
# Usage: tests/mutation/run.sh [NAME...]   (default: every mutant)
#   CCBAKE_MUTATION_DIR  scratch folder (default /var/tmp/ccbake-mutation; kept for the next run)
#   CCBAKE_TEST_CACHE    the test fixtures' cache, shared with tests/run.sh
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
mutants="$root/tests/mutation/mutants.txt"
apply=(/usr/bin/python3 "$root/tests/mutation/apply.py" "$mutants")
[ "$(id -u)" -eq 0 ] || { echo "mutation: run as root (the integration tests bake images)" >&2; exit 2; }
[ -x /usr/bin/python3 ] || { echo "mutation: needs /usr/bin/python3 (apt-get install python3)" >&2; exit 2; }
work="${CCBAKE_MUTATION_DIR:-/var/tmp/ccbake-mutation}"
src="$work/src" build="$work/build" logs="$work/logs"
export CCBAKE_TEST_CACHE="${CCBAKE_TEST_CACHE:-/var/cache/ccbake-tests}"
mkdir -p "$work" "$CCBAKE_TEST_CACHE" && rm -rf "$logs" && mkdir -p "$logs"

list="$("${apply[@]}" list)" || exit 2
if [ $# -gt 0 ]; then
    for n in "$@"; do
        grep -q "^$n	" <<<"$list" || { echo "mutation: no mutant named $n" >&2; exit 2; }
    done
    list="$(grep -E "^($(IFS='|'; echo "$*"))	" <<<"$list")"
fi

# The scratch copy: tracked and untracked (not ignored) files, with their times, so the
# build dir kept from an earlier run rebuilds only what changed.
echo "mutation: copying the working tree to $src" >&2
rm -rf "$src" && mkdir -p "$src"
(cd "$root" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -C "$src" -xf -
# Every file a mutant edits gets a fresh time: a run stopped after a mutant's build leaves
# mutated objects newer than the sources, which ninja would otherwise keep (ccache makes the
# rebuild cheap).
sed -n 's/^file: *//p' "$mutants" | sort -u | (cd "$src" && xargs -r touch --)
export CCACHE_BASEDIR="$src" CCACHE_NOHASHDIR=1
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >"$logs/cmake.log" 2>&1 ||
    { tail -n 20 "$logs/cmake.log" >&2; exit 2; }

# Puts files back as the working tree has them, with a fresh time so ninja rebuilds them.
restore() {  # file...
    local f
    for f in "$@"; do cp "$root/$f" "$src/$f"; done
}

build() {  # log
    ninja -C "$build" -j "$(nproc)" ccbake ccbake-check ccbake_unit >"$1" 2>&1
}

run_test() {  # spec log -> exit status of the test
    local spec="$1" log="$2"
    case "$spec" in
    unit:*) "$build/ccbake_unit" --source-file="${spec#unit:}" >"$log" 2>&1 ;;
    integration:*)
        local name="${spec#integration:}"
        [ -f "$src/tests/integration/$name.sh" ] || { echo "no test tests/integration/$name.sh" >"$log"; return 2; }
        # Only this test, with the normal build; a skip counts as a pass of nothing, so it
        # stops the run like a failing baseline would.
        CCBAKE="$build/ccbake" CCBAKE_ASAN="$build/no-sanitizer-build" CCBAKE_SRC="$src" \
            bash "$src/tests/run.sh" "$name" >"$log" 2>&1 || return 1
        ! grep -q '^SKIP' "$log" || { echo "mutation: $spec skipped: $(grep '^SKIP' "$log")" >&2; exit 2; } ;;
    *) echo "unknown test kind: $spec" >"$log"; return 2 ;;
    esac
}

echo "mutation: building the unmutated copy" >&2
build "$logs/baseline-build.log" || { tail -n 30 "$logs/baseline-build.log" >&2; exit 2; }
echo "mutation: the mutants' tests on the unmutated copy (they must pass)" >&2
for spec in $(cut -f2 <<<"$list" | tr ' ' '\n' | sort -u); do
    start=$SECONDS
    if ! run_test "$spec" "$logs/baseline-${spec//[:*\/]/_}.log"; then
        echo "mutation: $spec fails without any mutant; see $logs/baseline-${spec//[:*\/]/_}.log" >&2
        exit 2
    fi
    echo "  pass  $spec [$((SECONDS - start))s]" >&2
done

killed=0 total=0 survivors=() errors=()
while IFS=$'\t' read -r name tests promise; do
    total=$((total + 1))
    start=$SECONDS
    mlog="$logs/$name"
    mkdir -p "$mlog"
    if ! changed="$("${apply[@]}" apply "$name" "$src" 2>"$mlog/apply.log")"; then
        errors+=("$name"); echo "ERROR     $name: $(cat "$mlog/apply.log")"; continue
    fi
    if ! build "$mlog/build.log"; then
        errors+=("$name"); echo "ERROR     $name: the mutant does not build (see $mlog/build.log)"
        restore $changed; continue
    fi
    by=""
    for spec in $tests; do
        if ! run_test "$spec" "$mlog/${spec//[:*\/]/_}.log"; then by="$spec"; break; fi
    done
    if [ -n "$by" ]; then
        killed=$((killed + 1)); echo "KILLED    $name by $by [$((SECONDS - start))s]"
    else
        survivors+=("$name"); echo "SURVIVED  $name: $promise [$((SECONDS - start))s]"
    fi
    restore $changed
done <<<"$list"
# Leave the build as unmutated as the sources, for the next run.
build "$logs/final-build.log"
echo
[ ${#survivors[@]} -gt 0 ] && echo "survived: ${survivors[*]}"
[ ${#errors[@]} -gt 0 ] && echo "errors: ${errors[*]}"
echo "$killed/$total mutants killed (logs in $logs)"
[ "$killed" -eq "$total" ]
