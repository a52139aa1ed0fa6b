#!/bin/bash
# Every C++ source under builder/ and tests/ (*.h, *.cpp; the tracked ones in a git checkout) is
# formatted as the checked-in .clang-format says: clang-format --dry-run --Werror finds nothing.
# Prints the files that are not. Reads the source tree at $CCBAKE_SRC; needs no build.
# To fix: clang-format -i FILE... (from the source root).
source "$(dirname "$0")/lib.sh"
command -v clang-format >/dev/null || skip "clang-format is not installed (ci/packages/build.txt)"
cd "$CCBAKE_SRC"
[ -f .clang-format ] || fail "$CCBAKE_SRC/.clang-format is missing"
if [ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$(pwd -P)" ]; then
    mapfile -t files < <(git ls-files -- 'builder/*.h' 'builder/*.cpp' 'tests/*.h' 'tests/*.cpp')
else
    mapfile -t files < <(find builder tests -type f \( -name '*.h' -o -name '*.cpp' \) | sort)
fi
[ "${#files[@]}" -ge 100 ] || fail "only ${#files[@]} C++ files found under builder/ and tests/"
# The style is read once here, so an option this clang-format does not know fails loudly.
clang-format --dump-config >/dev/null || fail ".clang-format is not understood by $(clang-format --version)"
capture clang-format --style=file --dry-run --Werror "${files[@]}"
if [ "$rc" -ne 0 ]; then
    # Diagnostics read "FILE:LINE:COL: error: code should be clang-formatted".
    dirty="$(grep -oE '^[^:]+:[0-9]+:[0-9]+: error: ' <<<"$out" | cut -d: -f1 | sort -u)" ||
        fail "clang-format exited $rc:"$'\n'"$out"
    echo "$dirty"
    fail "$(wc -l <<<"$dirty") of ${#files[@]} files are not formatted as .clang-format says (clang-format -i FILE... fixes them)"
fi
echo "${#files[@]} files are formatted as .clang-format says ($(clang-format --version))"
