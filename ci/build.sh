#!/bin/bash
# Builds ccbake. `ci/build.sh` -> build/ (warnings are errors); `ci/build.sh asan` -> build-asan/
# (AddressSanitizer + UndefinedBehaviorSanitizer, for the unit tests and the recipe corpus).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
flavour="${1:-release}"
case "$flavour" in
    release) dir="$root/build"; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
    asan)    dir="$root/build-asan"; flags=(-DCMAKE_BUILD_TYPE=Debug -DCCBAKE_SANITIZE=ON) ;;
    *) echo "usage: ci/build.sh [release|asan]" >&2; exit 2 ;;
esac
launcher=()
if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    # Paths relative to the checkout, so every clone of the repository shares the cache.
    export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
fi
cmake -S "$root" -B "$dir" -G Ninja -DCCBAKE_WERROR=ON "${flags[@]}" "${launcher[@]}" >/dev/null
if ! ninja -C "$dir" -j "$(nproc)" >"$dir/build.log" 2>&1; then
    grep -v '^\[' "$dir/build.log" | tail -n 60 >&2
    echo "build: FAILED (full log: $dir/build.log)" >&2
    exit 1
fi
echo "build: $dir/ccbake"
