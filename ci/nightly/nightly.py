#!/usr/bin/env python3
"""The nightly image pipeline's steps (ci/nightly/gitlab-ci.yml calls them; they run locally too).

    nightly.py lock-check                  ccbake lock --check for every recipe; drift fails loudly
    nightly.py fetch                       ccbake fetch every recipe into the shared cache
    nightly.py matrix                      variants whose build key changed (JSON on stdout)
    nightly.py bake VARIANT                bake one variant, unless its published build is current
    nightly.py boot-check VARIANT          boot the baked image with its cloud-init seed under qemu
    nightly.py publish VARIANT             copy image, manifests and logs into the publish folder

Configuration (environment): NIGHTLY_VARIANTS (default ci/nightly/variants.yaml), CCBAKE
(default ccbake), CCBAKE_CACHE (shared artifact cache), NIGHTLY_BASE_IMAGE (input image),
NIGHTLY_WORK (work folder; default ./nightly-work), NIGHTLY_PUBLISH (publish folder; default
./nightly-publish), NIGHTLY_LOGS (default NIGHTLY_WORK/logs), NIGHTLY_FORCE=1 (bake even when
unchanged), NIGHTLY_BOOT_TIMEOUT (seconds, default 900), NIGHTLY_ACCEL (kvm or tcg; default kvm), NIGHTLY_BOOT_STRICT=1 (failed guest
checks fail the boot check; for runners that are TDX guests' hosts).

Every command runs as an argv list; nothing is passed through a shell.
"""
import datetime
import functools
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
ENV = os.environ


def variants_file():
    return pathlib.Path(ENV.get("NIGHTLY_VARIANTS", ROOT / "ci" / "nightly" / "variants.yaml"))


def load_variants():
    path = variants_file()
    doc = yaml.safe_load(path.read_text())
    out = {}
    for v in doc["variants"]:
        recipe = pathlib.Path(v["recipe"])
        if not recipe.is_absolute():
            recipe = (path.parent / recipe).resolve() if (path.parent / recipe).exists() else ROOT / recipe
        out[v["name"]] = {"name": v["name"], "recipe": str(recipe), "sets": list(v.get("sets", []))}
    return out


def variant(name):
    variants = load_variants()
    if name not in variants:
        sys.exit(f"nightly: no variant '{name}' in {variants_file()} (known: {', '.join(variants)})")
    return variants[name]


def work():
    return pathlib.Path(ENV.get("NIGHTLY_WORK", "nightly-work")).resolve()


def publish_root():
    return pathlib.Path(ENV.get("NIGHTLY_PUBLISH", "nightly-publish")).resolve()


def logs(name=None):
    root = pathlib.Path(ENV.get("NIGHTLY_LOGS", work() / "logs")).resolve()
    path = root / name if name else root
    path.mkdir(parents=True, exist_ok=True)
    return path


def ccbake(*args):
    argv = [ENV.get("CCBAKE", "ccbake")]
    if ENV.get("CCBAKE_CACHE"):
        argv += ["--cache", ENV["CCBAKE_CACHE"]]
    return argv + list(args)


def set_args(v):
    return [a for s in v["sets"] for a in ("--set", s)]


def run_logged(argv, log, **kw):
    """Runs argv with output appended to `log` and echoed; returns the exit status."""
    print("nightly: $ " + " ".join(argv), flush=True)
    with open(log, "a") as f:
        f.write("$ " + " ".join(argv) + "\n")
        f.flush()
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
        for line in p.stdout:
            sys.stdout.write(line)
            f.write(line)
        return p.wait()


def build_key(v):
    """What decides whether a variant must be baked again: the recipe hash from `ccbake plan
    --json` (covers includes, variables after --set, artifact digests), ccbake's version and
    the base image's identity."""
    plan = json.loads(subprocess.run(ccbake("plan", "--json", v["recipe"], *set_args(v)),
                                     check=True, capture_output=True, text=True).stdout)
    version = subprocess.run(ccbake("--version"), check=True, capture_output=True, text=True).stdout.strip()
    base = ENV.get("NIGHTLY_BASE_IMAGE", "")
    base_id = base_digest(base) if base and os.path.exists(base) else ""
    key = {"recipe_hash": plan["recipe"]["hash"], "ccbake": version, "base_image_sha256": base_id}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest(), key


@functools.lru_cache(maxsize=None)
def base_digest(path):
    return sha256_file(path)


def published_key(name):
    f = publish_root() / name / "build-key"
    return f.read_text().strip() if f.exists() else ""


def recipes_with_sets():
    seen, out = set(), []
    for v in load_variants().values():
        k = (v["recipe"], tuple(v["sets"]))
        if k not in seen:
            seen.add(k)
            out.append(v)
    return out


def cmd_lock_check():
    drifted = []
    for v in recipes_with_sets():
        if run_logged(ccbake("lock", "--check", v["recipe"], *set_args(v)), logs() / "lock-check.log") != 0:
            drifted.append(v["recipe"])
    if drifted:
        for r in drifted:
            # A GitLab/GitHub-style annotation and a banner nobody can miss.
            print(f"::error::UPSTREAM DRIFT: {r}: an artifact no longer matches RECIPE.lock", flush=True)
        print("=" * 72 + "\nnightly: UPSTREAM DRIFT in " + ", ".join(drifted) +
              "\n  the vendor changed a file behind a pinned URL: review it, then `ccbake lock` again\n" +
              "=" * 72, flush=True)
        return 1
    print("nightly: no upstream drift")
    return 0


def cmd_fetch():
    status = 0
    for v in recipes_with_sets():
        if run_logged(ccbake("fetch", v["recipe"], *set_args(v)), logs() / "fetch.log") != 0:
            status = 1
    return status


def cmd_matrix():
    force = ENV.get("NIGHTLY_FORCE") == "1"
    include, skipped = [], []
    for name, v in load_variants().items():
        try:
            key, parts = build_key(v)
        except subprocess.CalledProcessError as e:
            # Its own job will fail and say why; the other variants are unaffected.
            include.append({"VARIANT": name, "recipe": v["recipe"], "error": (e.stderr or "").strip()[-500:]})
            continue
        entry = {"VARIANT": name, "recipe": v["recipe"], "build_key": key, "recipe_hash": parts["recipe_hash"]}
        (include if force or published_key(name) != key else skipped).append(entry)
    print(json.dumps({"include": include, "skipped": skipped}, indent=2))
    return 0


def cmd_bake(name):
    v = variant(name)
    try:
        key, parts = build_key(v)
    except subprocess.CalledProcessError as e:
        print(f"nightly: {name}: `ccbake plan` failed:\n{e.stderr}", flush=True)
        return 2
    out = work() / name
    if ENV.get("NIGHTLY_FORCE") != "1" and published_key(name) == key:
        shutil.rmtree(out, ignore_errors=True)  # so boot-check and publish see nothing stale
        print(f"nightly: {name} unchanged (recipe hash {parts['recipe_hash'][:16]}…): its published build is current")
        return 0
    base = ENV.get("NIGHTLY_BASE_IMAGE")
    if not base:
        sys.exit("nightly: set NIGHTLY_BASE_IMAGE to the input image")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    image = out / f"{name}.qcow2"
    status = run_logged(ccbake("bake", v["recipe"], "--image", base, "--output", str(image), *set_args(v)),
                        logs(name) / "bake.log")
    if status == 0:
        (out / "build-key").write_text(key + "\n")
        (out / "build-key.json").write_text(json.dumps(parts, indent=2) + "\n")
    return status


def cmd_boot_check(name):
    v = variant(name)
    out = work() / name
    image = out / f"{name}.qcow2"
    if not image.exists():
        print(f"nightly: {name}: nothing baked in this run (unchanged or failed): no boot check")
        return 0
    seed = out / "seed"
    if run_logged(ccbake("render", "cloud-init", v["recipe"], "-o", str(seed), *set_args(v)),
                  logs(name) / "boot-check.log") != 0:
        return 1
    overlay = out / "boot-overlay.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(image), "-F", "qcow2", str(overlay)],
                   check=True)
    shutil.copy("/usr/share/ovmf/OVMF.fd", out / "OVMF.fd")
    console = logs(name) / "console.log"
    console.unlink(missing_ok=True)  # a report from an earlier boot must not count
    accel = ["-accel", "kvm", "-cpu", "host"] if ENV.get("NIGHTLY_ACCEL", "kvm") == "kvm" else ["-accel", "tcg"]
    argv = ["qemu-system-x86_64", *accel, "-machine", "q35", "-m", "4096", "-smp", "2",
            "-bios", str(out / "OVMF.fd"), "-drive", f"file={overlay},format=qcow2,if=virtio",
            "-cdrom", str(seed / "seed.iso"), "-nic", "user,model=virtio-net-pci",
            "-display", "none", "-monitor", "none", "-serial", f"file:{console}", "-no-reboot"]
    print("nightly: $ " + " ".join(argv), flush=True)
    qemu = subprocess.Popen(argv)
    deadline = time.time() + int(ENV.get("NIGHTLY_BOOT_TIMEOUT", "900"))
    verdict = None
    try:
        while time.time() < deadline and qemu.poll() is None and verdict is None:
            time.sleep(5)
            text = console.read_text(errors="replace") if console.exists() else ""
            for line in text.splitlines():
                if "ccbake-firstboot: guest checks:" in line or "ccbake-firstboot: ccbake-check exited" in line:
                    verdict = line.strip()
    finally:
        if qemu.poll() is None:
            qemu.terminate()
            try:
                qemu.wait(30)
            except subprocess.TimeoutExpired:
                qemu.kill()
                qemu.wait()
        overlay.unlink(missing_ok=True)
    if verdict is None:
        print(f"nightly: {name}: no first-boot check report on the serial console; see {console}")
        return 1
    print(f"nightly: {name}: {verdict}")
    failed = not (verdict.endswith("guest checks: 0 failed; result in /var/lib/ccbake/firstboot-check.json")
                  or "exited 0" in verdict)
    if failed and ENV.get("NIGHTLY_BOOT_STRICT") == "1":
        return 1
    return 0


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cmd_publish(name):
    out = work() / name
    image = out / f"{name}.qcow2"
    if not image.exists() or not (out / "build-key").exists():
        print(f"nightly: {name}: nothing to publish (unchanged or failed)")
        return 0
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    dest_root = publish_root() / name
    dest = dest_root / stamp
    partial = dest_root / f".{stamp}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    files = [image, pathlib.Path(f"{image}.manifest.json"), out / "build-key.json"]
    for f in files:
        shutil.copy2(f, partial / f.name)
    (partial / "SHA256SUMS").write_text(
        "".join(f"{sha256_file(partial / f.name)}  {f.name}\n" for f in files))
    if logs(name).exists():
        shutil.copytree(logs(name), partial / "logs")
    os.rename(partial, dest)  # the published folder appears whole or not at all
    latest = dest_root / "latest"
    tmp_link = dest_root / ".latest.tmp"
    tmp_link.unlink(missing_ok=True)
    tmp_link.symlink_to(stamp)
    os.replace(tmp_link, latest)
    shutil.copy2(out / "build-key", dest_root / ".build-key.tmp")
    os.replace(dest_root / ".build-key.tmp", dest_root / "build-key")
    print(f"nightly: published {name} to {dest}")
    return 0


def main(argv):
    commands = {"lock-check": cmd_lock_check, "fetch": cmd_fetch, "matrix": cmd_matrix}
    per_variant = {"bake": cmd_bake, "boot-check": cmd_boot_check, "publish": cmd_publish}
    if len(argv) == 2 and argv[1] in commands:
        return commands[argv[1]]()
    if len(argv) == 3 and argv[1] in per_variant:
        return per_variant[argv[1]](argv[2])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
