#!/bin/bash
# Reproducible bakes of the demo recipe, checked by someone who did not bake them: the demo
# baked twice from the same base and the same stand-in artifacts (SOURCE_DATE_EPOCH not set)
# into two outputs gives one content digest; `ccbake verify` matches each image against the
# other's manifest; one changed byte in one vendor file of a copy makes verify name it and exit
# 1; the demo with one step changed differs from it in exactly that step and that file
# (`ccbake diff`); the SBOM beside each image is valid SPDX 2.3 to an independent validator
# (the SPDX project's schema and Debian's python3-jsonschema), equals the one inside the image,
# and lists the stand-in debs, the driver artifact and the venv's distributions; no
# module-signing key is left in the image.
source "$(dirname "$0")/lib.sh"
command -v partx >/dev/null && command -v qemu-img >/dev/null || skip "needs util-linux and qemu-utils"
[ "$(id -u)" -eq 0 ] || skip "baking images needs root (loop devices, mounts)"
/usr/bin/python3 -c 'import jsonschema' 2>/dev/null || skip "needs python3-jsonschema (ci/packages/image.txt)"
work="$(scratch)"
root="$CCBAKE_SRC"
source "$root/ci/demo-setup.bash"
demo_setup "$work" >"$work/setup.log" 2>&1 || fail "demo setup: $(tail -n 20 "$work/setup.log")"
trap 'kill $server_pid 2>/dev/null || true; rm -rf "$CCBAKE_TEST_TMP"' EXIT
unset SOURCE_DATE_EPOCH

bake_demo() {  # OUTPUT [--set ...]
    local output="$1"; shift
    capture "$CCBAKE" --cache "$work/cache" bake "$recipe" --image "$base" --output "$output" \
        --format raw "${sets[@]}" "$@"
    assert_rc 0
}
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]])' "$@"; }
root_offset() { echo $(( $(partx -g -o START -n 1 "$1") * 512 )); }

# 1. Two bakes, two outputs, one digest.
bake_demo "$work/a.raw"
bake_demo "$work/b.raw"
a="$(field "$work/a.raw.manifest.json" content sha256)"
b="$(field "$work/b.raw.manifest.json" content sha256)"
[[ "$a" =~ ^[0-9a-f]{64}$ ]] || fail "no content digest in the demo's manifest"
if [ "$a" != "$b" ]; then
    capture "$CCBAKE" diff "$work/a.raw.manifest.json" "$work/b.raw.manifest.json"
    fail "two bakes of the demo differ ($a, $b):"$'\n'"$out"
fi
echo "two bakes of the demo: content sha256 $a"

# 2. Each image verifies against the other bake's manifest.
capture "$CCBAKE" verify "$work/a.raw" --manifest "$work/b.raw.manifest.json"
assert_rc 0
capture "$CCBAKE" verify "$work/b.raw" --manifest "$work/a.raw.manifest.json"
assert_rc 0

# 3. One byte of one vendor file changed in a copy: verify names that file and exits 1.
cp --sparse=always "$work/a.raw" "$work/c.raw"
unshare -m bash -euc '
    mkdir -p "$3" && mount -o loop,offset="$2" "$1" "$3"
    test -f "$3/usr/bin/nvidia-smi"
    printf X | dd of="$3/usr/bin/nvidia-smi" bs=1 seek=100 conv=notrunc status=none
    umount "$3"' _ "$work/c.raw" "$(root_offset "$work/c.raw")" "$work/mnt"
capture "$CCBAKE" verify "$work/c.raw" --manifest "$work/a.raw.manifest.json"
assert_rc 1
assert_contains "$out" "content  /usr/bin/nvidia-smi"
assert_eq "$(grep -c '^ *content \|^ *added \|^ *removed \|^ *mode \|^ *owner \|^ *size ' <<<"$out")" "1" \
    "paths verify names for one changed file: $out"
rm -f "$work/c.raw"

# 4. The demo with one step changed (the PCCS the quote library asks): that step, that file.
bake_demo "$work/d.raw" --set pccs_host=pccs.example.test:8081
capture "$CCBAKE" diff "$work/a.raw.manifest.json" "$work/d.raw.manifest.json"
assert_rc 1
assert_contains "$out" "step     qcnl-pccs: "
assert_contains "$out" "file     /etc/sgx_default_qcnl.conf: "
assert_eq "$(grep -c '^step\|^file\|^artifact\|^package' <<<"$out")" "2" "diff lines: $out"

# 5. The SBOM: valid to an independent validator, the same inside the image, complete.
for img in a b; do
    /usr/bin/python3 "$root/tests/fixtures/spdx/validate-spdx.py" "$work/$img.raw.spdx.json" ||
        fail "the SBOM beside $img.raw is not valid SPDX 2.3"
done
unshare -m bash -euc '
    mkdir -p "$3" && mount -o ro,loop,noload,offset="$2" "$1" "$3"
    cp "$3/usr/share/ccbake/sbom.spdx.json" "$4"
    ls "$3/var/lib/dkms" > "$4.dkms"
    ls "$3/var/lib/shim-signed/mok" >> "$4.dkms" 2>/dev/null || true
    umount "$3"' _ "$work/a.raw" "$(root_offset "$work/a.raw")" "$work/mnt" "$work/inside.spdx.json"
cmp "$work/inside.spdx.json" "$work/a.raw.spdx.json" || fail "the SBOM in the image differs from the one beside it"
assert_not_contains "$(cat "$work/inside.spdx.json.dkms")" "mok.key" "the image's /var/lib/dkms"
assert_not_contains "$(cat "$work/inside.spdx.json.dkms")" "MOK.priv" "the image's shim-signed keys"
python3 - "$work/a.raw.spdx.json" "$work/a.raw.manifest.json" <<'PY' || fail "the SBOM misses what the image holds"
import json, sys
doc, manifest = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
by_id = {p["SPDXID"]: p for p in doc["packages"]}
debs = {p["name"]: p for p in doc["packages"] if p["SPDXID"].startswith("SPDXRef-deb-")}
for name in ("nvidia-fabricmanager-570", "libnvidia-nscq-570", "libsgx-dcap-quote-verify", "dkms"):
    assert name in debs, f"deb {name} not in the SBOM"
fm = debs["nvidia-fabricmanager-570"]
assert fm["versionInfo"] == "570.195.03-1", fm
assert fm["externalRefs"][0]["referenceLocator"].startswith("pkg:deb/debian/nvidia-fabricmanager-570@570.195.03-1?arch=amd64"), fm
assert len(debs) == len(manifest["packages"]), (len(debs), len(manifest["packages"]))
arts = {p["name"]: p for p in doc["packages"] if p["SPDXID"].startswith("SPDXRef-Artifact-")}
drv = arts["nvidia_driver_run"]
m_drv = next(a for a in manifest["artifacts"] if a["name"] == "nvidia_driver_run")
assert {c["algorithm"]: c["checksumValue"] for c in drv["checksums"]} == {"MD5": m_drv["md5"], "SHA256": m_drv["sha256"]}, drv
assert drv["downloadLocation"] == m_drv["url"], drv
assert len(arts) == len(manifest["artifacts"])
py = {p["name"]: p for p in doc["packages"] if p["SPDXID"].startswith("SPDXRef-pypi-")}
for name, version in (("nv-local-gpu-verifier", "2.6.1"), ("nv-attestation-sdk", "2.6.1"), ("nv-ppcie-verifier", "1.6.1")):
    assert py[name]["versionInfo"] == version, py.get(name)
    assert py[name]["comment"] == "installed in the venv /opt/nvtrust/venv", py[name]
image = [r["relatedSpdxElement"] for r in doc["relationships"] if r["relationshipType"] == "DESCRIBES"]
assert len(image) == 1 and manifest["content"]["sha256"] in by_id[image[0]]["comment"]
contained = {r["relatedSpdxElement"] for r in doc["relationships"] if r["relationshipType"] == "CONTAINS"}
assert contained == {p["SPDXID"] for p in list(debs.values()) + list(py.values())}
import hashlib
assert manifest["sbom"]["sha256"] == hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest()
print(f"SBOM: {len(debs)} debs, {len(arts)} artifacts, {len(py)} Python distributions")
PY
echo "reproducible demo OK"
