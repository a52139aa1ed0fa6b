#!/bin/bash
# The whole test suite, from a fresh machine: install what is needed, build (normal and
# sanitizer builds), run the unit tests, then every integration test under tests/integration.
# Prints "N passed, N failed" at the end; exits non-zero on any failure.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash ci/bootstrap.sh
bash ci/build.sh release
bash ci/build.sh asan
export CCBAKE="$root/build/ccbake" CCBAKE_ASAN="$root/build-asan/ccbake" CCBAKE_SRC="$root"
export CCBAKE_TEST_CACHE="${CCBAKE_TEST_CACHE:-/var/cache/ccbake-tests}"
mkdir -p "$CCBAKE_TEST_CACHE"
exec bash tests/run.sh "$@"
