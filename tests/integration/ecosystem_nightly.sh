#!/bin/bash
# Nightly pipeline: ci/nightly/gitlab-ci.yml is valid YAML with the expected jobs, its matrix
# lists exactly the variants of variants.yaml, and its scripts exist; nightly.py's plan-hash
# check bakes a changed variant and skips an unchanged one; a failing variant does not stop
# the others, and publish appears whole with checksums and logs.
source "$(dirname "$0")/lib.sh"
python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml is not installed (ci/packages/ecosystem.txt)"
tmp="$(mktemp -d /var/tmp/ccbake-nightly.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
nightly="$CCBAKE_SRC/ci/nightly/nightly.py"

# 1. The pipeline definition.
python3 - "$CCBAKE_SRC" <<'EOF' || fail "ci/nightly/gitlab-ci.yml"
import os, sys, yaml
root = sys.argv[1]
ci = yaml.safe_load(open(root + "/ci/nightly/gitlab-ci.yml"))
variants = [v["name"] for v in yaml.safe_load(open(root + "/ci/nightly/variants.yaml"))["variants"]]
for job in ("lock-check", "fetch", "matrix", "bake"):
    assert job in ci, "missing job " + job
    assert ci[job]["stage"] in ci["stages"], job
assert "nightly.py lock-check" in " ".join(ci["lock-check"]["script"])
bake = ci["bake"]
matrix = bake["parallel"]["matrix"]
assert matrix == [{"VARIANT": variants}], (matrix, variants)
assert bake["when"] == "always", "a fetch failure must not block every variant"
script = " ".join(bake["script"])
for step in ("bake", "boot-check", "publish"):
    assert "nightly.py %s \"$VARIANT\"" % step in script, step
assert ci["default"]["artifacts"]["when"] == "always", "logs of failed jobs are kept"
for job in ("lock-check", "fetch", "matrix", "bake"):
    for line in ci[job]["script"]:
        word = line.split()[0]
        if word.startswith("ci/"):
            assert os.access(os.path.join(root, word), os.X_OK), word + " is not an executable script"
for v in yaml.safe_load(open(root + "/ci/nightly/variants.yaml"))["variants"]:
    assert os.path.exists(os.path.join(root, v["recipe"])), v["recipe"]
EOF

# 2. Skip-unchanged against `ccbake plan --json`: two variants of a small test recipe.
cat >"$tmp/recipe.yaml" <<'EOF'
name: nightly-test
description: TEST ONLY - a small recipe for the nightly pipeline's scripts.
base: {os: debian, version: "12", min_kernel: 6.1.0}
variables: {flavour: plain}
steps:
  - file: {path: /etc/ccbake-flavour, content: "${flavour}\n"}
  - file: {name: machine-id, path: /etc/machine-id, content: "", mode: "0444"}
EOF
cat >"$tmp/variants.yaml" <<EOF
variants:
  - {name: plain, recipe: $tmp/recipe.yaml}
  - {name: spicy, recipe: $tmp/recipe.yaml, sets: [flavour=spicy]}
  - {name: broken, recipe: $tmp/recipe.yaml, sets: [no_such_variable=1]}
EOF
export NIGHTLY_VARIANTS="$tmp/variants.yaml" NIGHTLY_WORK="$tmp/work" NIGHTLY_PUBLISH="$tmp/publish"
export NIGHTLY_LOGS="$tmp/logs" CCBAKE_CACHE="$tmp/cache"
matrix() { python3 "$nightly" matrix | python3 -c 'import json,sys; print(" ".join(e["VARIANT"] for e in json.load(sys.stdin)["include"]))'; }
sed -i '/broken/d' "$tmp/variants.yaml"
assert_eq "$(matrix)" "plain spicy" "matrix before any publish"
# Publish "plain" as if baked (its build key only; the image bake comes below when possible).
key="$(python3 "$nightly" matrix | python3 -c 'import json,sys; print(json.load(sys.stdin)["include"][0]["build_key"])')"
mkdir -p "$tmp/publish/plain" && echo "$key" >"$tmp/publish/plain/build-key"
assert_eq "$(matrix)" "spicy" "matrix after publishing plain"
capture python3 "$nightly" bake plain
assert_rc 0
assert_contains "$out" "plain unchanged"
# A changed variable changes the recipe hash, so the variant is baked again.
sed -i 's/{flavour: plain}/{flavour: mild}/' "$tmp/recipe.yaml"
assert_eq "$(matrix)" "plain spicy" "matrix after a recipe change"
NIGHTLY_FORCE=1 capture python3 "$nightly" matrix
assert_contains "$out" '"VARIANT": "plain"'
rm -rf "$tmp/publish"

# 3. Real bakes, when `ccbake bake --image` and the Debian 12 test image are there.
NIGHTLY_BASE_IMAGE="$(bash "$CCBAKE_SRC/tests/fixtures/base-image.sh")"
export NIGHTLY_BASE_IMAGE
echo "  - {name: broken, recipe: $tmp/recipe.yaml, sets: [no_such_variable=1]}" >>"$tmp/variants.yaml"
# What GitLab's matrix does: every variant's job runs, whatever the others do.
declare -A status
for v in plain broken; do
    set +e
    python3 "$nightly" bake "$v" >"$tmp/$v.log" 2>&1
    status[$v]=$?
    set -e
done
[ "${status[broken]}" -ne 0 ] || fail "the broken variant passed"
[ "${status[plain]}" -eq 0 ] || { cat "$tmp/plain.log"; fail "plain did not bake"; }

# boot-check reads the first-boot report from the serial console. A stand-in qemu (the real
# boot is tested in ecosystem_cloud_init_boot.sh) prints the report line the helper prints.
mkdir -p "$tmp/bin"
cat >"$tmp/bin/qemu-system-x86_64" <<'QEMU'
#!/bin/bash
printf '%s\n' "$@" >"$FAKE_QEMU_ARGV"
while [ $# -gt 0 ]; do [ "$1" = -serial ] && console="${2#file:}"; shift; done
[ -n "${FAKE_QEMU_REPORT:-}" ] && echo "[ 99.0] cloud-init[1]: $FAKE_QEMU_REPORT" >"$console"
exec sleep 60
QEMU
chmod +x "$tmp/bin/qemu-system-x86_64"
export FAKE_QEMU_ARGV="$tmp/qemu-argv"
report="ccbake-firstboot: guest checks: 3 failed; result in /var/lib/ccbake/firstboot-check.json"
PATH="$tmp/bin:$PATH" FAKE_QEMU_REPORT="$report" capture python3 "$nightly" boot-check plain
assert_rc 0
assert_contains "$out" "guest checks: 3 failed"
assert_contains "$(cat "$tmp/qemu-argv")" "$tmp/work/plain/seed/seed.iso"
assert_eq "$(blkid -o value -s LABEL "$tmp/work/plain/seed/seed.iso")" "cidata" "boot-check seed label"
PATH="$tmp/bin:$PATH" FAKE_QEMU_REPORT="$report" NIGHTLY_BOOT_STRICT=1 capture python3 "$nightly" boot-check plain
assert_rc 1
PATH="$tmp/bin:$PATH" NIGHTLY_BOOT_TIMEOUT=6 capture python3 "$nightly" boot-check plain
assert_rc 1
assert_contains "$out" "no first-boot check report"

# Publish: whole or not at all, with checksums and logs; a failed variant publishes nothing.
capture python3 "$nightly" publish plain
assert_rc 0
capture python3 "$nightly" publish broken
assert_contains "$out" "nothing to publish"
latest="$tmp/publish/plain/latest"
[ -s "$latest/plain.qcow2" ] && [ -s "$latest/plain.qcow2.manifest.json" ] || fail "published files missing"
(cd "$latest" && sha256sum -c --quiet SHA256SUMS) || fail "published checksums do not match"
[ -s "$latest/logs/bake.log" ] && [ -s "$latest/logs/boot-check.log" ] || fail "the logs were not published"
[ ! -e "$tmp/publish/broken" ] || fail "a failed variant was published"
[ -z "$(find "$tmp/publish/plain" -maxdepth 1 -name '*partial*')" ] || fail "a partial publish folder was left behind"

# Now unchanged: the next night skips it, and boot-check/publish have nothing to do.
assert_eq "$(matrix)" "spicy broken" "matrix after the bake"
capture python3 "$nightly" bake plain
assert_rc 0
assert_contains "$out" "plain unchanged"
capture python3 "$nightly" boot-check plain
assert_contains "$out" "nothing baked in this run"
capture python3 "$nightly" publish plain
assert_contains "$out" "nothing to publish"
echo "nightly pipeline OK"
