#!/bin/bash
# Runs `ccbake bake` for a Packer shell-local step. Every value arrives in an environment
# variable set by the template and is passed to ccbake as one argv element: nothing from the
# template is evaluated by a shell. CCBAKE_SETS holds NAME=VALUE overrides, one per line.
#   CCBAKE (default: ccbake), CCBAKE_RECIPE, CCBAKE_INPUT, CCBAKE_OUTPUT,
#   CCBAKE_FORMAT (qcow2|raw, optional), CCBAKE_CACHE_DIR (optional), CCBAKE_SETS (optional)
set -euo pipefail
: "${CCBAKE_RECIPE:?the template sets CCBAKE_RECIPE}" "${CCBAKE_INPUT:?}" "${CCBAKE_OUTPUT:?}"
argv=("${CCBAKE:-ccbake}")
[ -n "${CCBAKE_CACHE_DIR:-}" ] && argv+=(--cache "$CCBAKE_CACHE_DIR")
argv+=(bake "$CCBAKE_RECIPE" --image "$CCBAKE_INPUT" --output "$CCBAKE_OUTPUT")
[ -n "${CCBAKE_FORMAT:-}" ] && argv+=(--format "$CCBAKE_FORMAT")
while IFS= read -r set; do
    [ -n "$set" ] && argv+=(--set "$set")
done <<<"${CCBAKE_SETS:-}"
mkdir -p "$(dirname "$CCBAKE_OUTPUT")"
echo "ccbake-bake: ${argv[*]}" >&2
exec "${argv[@]}"
