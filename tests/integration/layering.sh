#!/bin/bash
# The layers of builder/ drawn in ARCHITECTURE.md (its ```layers block) hold in the code: no
# file there includes a header of a higher layer, or of another folder on its own layer unless
# the block allows that pair; every entry of builder/ is in the block, every name in it exists.
# Reads the source tree at $CCBAKE_SRC; needs no build.
source "$(dirname "$0")/lib.sh"
python3 - "$CCBAKE_SRC" <<'PY' || fail "includes in builder/ go against the layers in ARCHITECTURE.md"
import pathlib, re, sys

src = pathlib.Path(sys.argv[1])
builder = src / "builder"
problems = []

block = re.search(r"^```layers\n(.*?)^```", (src / "ARCHITECTURE.md").read_text(), re.M | re.S)
if not block:
    sys.exit("ARCHITECTURE.md has no ```layers block")
layer, allowed = {}, set()
for n, line in enumerate(block.group(1).splitlines(), 1):
    words = line.split()
    if not words or words[0] == "layer":
        continue
    if words[0].isdigit() and len(words) > 1:
        for name in words[1:]:
            if name in layer:
                problems.append(f"ARCHITECTURE.md: {name} is on two layers")
            layer[name] = int(words[0])
    elif words[0] == "allow" and len(words) == 4 and words[2] == "->":
        allowed.add((words[1], words[3]))
    else:
        sys.exit(f"ARCHITECTURE.md: line {n} of the layers block is neither "
                 f"'N folder...' nor 'allow a -> b': {line!r}")

# An entry of builder/ is a folder, or a source file directly in builder/ (main.cpp).
entries = {p.name for p in builder.iterdir() if p.is_dir() or p.suffix in (".h", ".cpp")}
for name in sorted(entries - layer.keys()):
    problems.append(f"builder/{name} is missing from the layers in ARCHITECTURE.md")
for name in sorted(layer.keys() - entries):
    problems.append(f"ARCHITECTURE.md names builder/{name}, which does not exist")
for a, b in sorted(allowed):
    if a not in layer or b not in layer or layer[a] != layer[b]:
        problems.append(f"ARCHITECTURE.md: allow {a} -> {b} is not a pair on one layer")

include = re.compile(r'^\s*#\s*include\s*([<"])(([^/">]+)/[^">]*)[">]')
files = sorted(p for p in builder.rglob("*") if p.suffix in (".h", ".cpp") and p.is_file())
for path in files:
    rel = path.relative_to(src)
    own = path.relative_to(builder).parts[0]
    if own not in layer:
        continue  # reported above
    for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        m = include.match(line)
        if not m:
            continue
        quote, header, target = m.groups()
        if target not in layer:
            if quote == '"':  # <boost/...>, <sys/...>: not ours
                problems.append(f"{rel}:{n}: includes {header}, not in a folder of builder/")
            continue
        if target == own or (own, target) in allowed:
            continue
        if layer[target] >= layer[own]:
            problems.append(f"{rel}:{n}: includes {header} (layer {layer[target]}) "
                            f"from layer {layer[own]}")

for p in problems:
    print(p)
if problems:
    sys.exit(1)
print(f"{len(files)} files of builder/ include only down the {len(set(layer.values()))} layers")
PY
