#!/bin/bash
# Wall time of each phase and step of the demo bake (ci/demo.sh), as ccbake reports them,
# in one table. Usage: tests/bench/demo_phases.sh [DEMO-OUTPUT-DIR]
# Runs the demo once (building nothing) and reads its log; prints phase, seconds, share.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-/var/tmp/ccbake-demo-bench}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
bash "$root/ci/demo.sh" --no-build --out "$out" >"$log" 2>&1 || true
python3 - "$log" <<'PY'
import re, sys
rows = []
for line in open(sys.argv[1]):
    m = re.match(r"\s+(\w[\w-]*) took ([\d.]+)s", line)
    if m: rows.append((m.group(1), float(m.group(2))))
    m = re.match(r"\s+\[\d+/\d+\] (\S+) \((\w+)\): .* in ([\d.]+)s", line)
    if m: rows.append(("  step " + m.group(1), float(m.group(3))))
total = sum(s for n, s in rows if not n.startswith("  "))
print(f"{'phase':<48}{'seconds':>9}{'share':>8}")
for name, s in rows:
    share = f"{100 * s / total:5.1f}%" if total and not name.startswith("  ") else ""
    print(f"{name:<48}{s:9.2f}{share:>8}")
print(f"{'total (phases)':<48}{total:9.2f}")
PY
