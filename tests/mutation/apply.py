#!/usr/bin/env python3
"""Reads tests/mutation/mutants.txt and applies one mutant to a source tree.

Usage: apply.py MUTANTS_FILE list            one line per mutant: NAME<TAB>TESTS<TAB>PROMISE
       apply.py MUTANTS_FILE apply NAME ROOT  applies NAME's edits to the tree at ROOT and prints
                                         the files it changed

An edit replaces text that must occur exactly once in its file; a mutant whose text is not
found (the code moved on) is an error, never a silent no-op.
"""
import sys
from pathlib import Path


def parse(path):
    mutants, cur, mode, buf = [], None, None, []
    for n, raw in enumerate(Path(path).read_text().splitlines(), 1):
        line = raw.rstrip("\n")
        if mode == "old":
            if line == "@@@ with":
                cur["edits"].append({"file": cur["file"], "old": "\n".join(buf), "line": n})
                mode, buf = "new", []
            elif line.startswith("@@@"):
                sys.exit(f"{path}:{n}: expected '@@@ with' after the text to replace")
            else:
                buf.append(line)
            continue
        if mode == "new":
            if line == "@@@ end":
                cur["edits"][-1]["new"] = "\n".join(buf)
                mode, buf = None, []
            elif line.startswith("@@@"):
                sys.exit(f"{path}:{n}: expected '@@@ end' after the replacement")
            else:
                buf.append(line)
            continue
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            cur = {"name": line[1:-1], "promise": "", "tests": [], "file": None, "edits": []}
            mutants.append(cur)
        elif cur is None:
            sys.exit(f"{path}:{n}: text before the first [mutant]")
        elif line.startswith("promise:"):
            cur["promise"] = line.split(":", 1)[1].strip()
        elif line.startswith("tests:"):
            cur["tests"] = line.split(":", 1)[1].split()
        elif line.startswith("file:"):
            cur["file"] = line.split(":", 1)[1].strip()
        elif line == "@@@ replace":
            if not cur["file"]:
                sys.exit(f"{path}:{n}: '@@@ replace' before 'file:'")
            mode, buf = "old", []
        else:
            sys.exit(f"{path}:{n}: cannot read {line!r}")
    if mode:
        sys.exit(f"{path}: unterminated edit at the end of the file")
    for m in mutants:
        if not m["edits"] or not m["tests"] or not m["promise"]:
            sys.exit(f"{path}: mutant {m['name']} needs a promise, tests and at least one edit")
        if any("new" not in e for e in m["edits"]):
            sys.exit(f"{path}: mutant {m['name']} has an edit without '@@@ with'")
    names = [m["name"] for m in mutants]
    if len(set(names)) != len(names):
        sys.exit(f"{path}: mutant names repeat")
    return mutants


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    mutants = parse(sys.argv[1])
    if sys.argv[2] == "list":
        for m in mutants:
            print(f"{m['name']}\t{' '.join(m['tests'])}\t{m['promise']}")
        return
    if sys.argv[2] != "apply" or len(sys.argv) != 5:
        sys.exit(__doc__)
    name, root = sys.argv[3], Path(sys.argv[4])
    found = [m for m in mutants if m["name"] == name]
    if not found:
        sys.exit(f"no mutant named {name}")
    texts = {}  # every edit is checked before any file is written
    for e in found[0]["edits"]:
        f = root / e["file"]
        text = texts.get(f) or f.read_text()
        count = text.count(e["old"])
        if count != 1:
            sys.exit(f"mutant {name}: the text of its edit (mutants.txt line {e['line']}) occurs "
                     f"{count} times in {e['file']}, not once; update the mutant")
        texts[f] = text.replace(e["old"], e["new"])
    for f, text in texts.items():
        f.write_text(text)
    for changed in sorted({e["file"] for e in found[0]["edits"]}):
        print(changed)


if __name__ == "__main__":
    main()
