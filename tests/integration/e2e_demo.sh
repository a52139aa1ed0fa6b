#!/bin/bash
# End to end: the README's demo (bake the 8-GPU demo recipe from stand-ins served on loopback
# into the cloud-like base, grown to the recipe's disk_size, boot it under qemu/OVMF with its
# initramfs, read the evidence from the serial console), then: the same bake
# from qcow2 input to qcow2 output, a second bake of the output is a no-op, and a bake
# interrupted with SIGINT half-way leaves no output, no mounts and no loop devices.
source "$(dirname "$0")/lib.sh"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed"
work="$(scratch)"

# 1. The demo itself (it exits non-zero when any evidence is missing).
capture bash "$CCBAKE_SRC/ci/demo.sh" --no-build --out "$work"
printf '%s\n' "$out" | tail -n 25
assert_rc 0
assert_contains "$out" "ok    kernel command line carries swiotlb=2097152"
assert_contains "$out" "ok    nvidia-fabricmanager starts after nvidia-persistenced"
assert_contains "$out" "ok    no unit failed to load"
assert_contains "$out" "ok    booted with its initramfs"
assert_contains "$out" "ok    root file system grown to the recipe's disk_size"
assert_contains "$out" "ok    in-guest checker says the GPU is absent"
assert_contains "$out" "ok    the nvidia module dkms built is there for the booted kernel"
assert_contains "$out" "ok    dkms has nvidia 570.195.03 installed"
assert_contains "$out" "ok    the venv has the three nvtrust packages at the tag's versions"
assert_contains "$out" "STAND-INS"
image="$(sed -n 's/^image: *//p' <<<"$out")"
[ -f "$image" ] || fail "the demo printed no image path"
manifest="$image.manifest.json"
python3 - "$manifest" <<'PY' || fail "manifest beside the output is incomplete"
import json, sys
m = json.load(open(sys.argv[1]))
names = {a["name"] for a in m["artifacts"]}
need = {"nvidia_driver_run", "fabricmanager_deb", "nscq_deb", "sgx_local_repo", "sgx_sdk_bin", "dcap_source",
        "nvtrust_source", "nvtrust_wheelhouse"}
assert need <= names, need - names
assert all(len(a["sha256"]) == 64 for a in m["artifacts"])
assert len(m["steps"]) >= 16
# The cloud-like base (about 1.4 GiB) grew to the recipe's disk_size.
assert m["disk"]["size"] == 6 * 1024**3 and m["disk"]["input_size"] < 2 * 1024**3, m["disk"]
assert m["recipe"]["base"]["disk_size"] == 6 * 1024**3
# What a boot measures (docs/measure.md): for a TD, Secure Boot off and on; the base's grub 2.06
# measures nothing into a TD, so RTMR2 holds shim's three MOK events.
ms = m["measurements"]
assert ms["predicted"] and ms["grub"] == "EFI/debian/grubx64.efi", ms
assert [p["secure_boot"] for p in ms["predictions"]] == [False, True]
for p in ms["predictions"]:
    assert len(p["rtmr1"]) == 96 and len(p["rtmr2"]) == 96, p
    assert [e["measures"] for e in p["events"] if e["rtmr"] == 2] == ["MokList", "MokListX", "MokListTrusted"]
    assert any(e["type"] == "EV_EFI_GPT_EVENT" for e in p["events"])
print("measurements: RTMR1", ms["predictions"][0]["rtmr1"][:16], "RTMR2", ms["predictions"][0]["rtmr2"][:16])
PY
# ccbake measure reads the published image back to the same values.
"$CCBAKE" --json measure "$image" --secure-boot on >"$CCBAKE_TEST_TMP/demo-measure.json"
python3 - "$manifest" "$CCBAKE_TEST_TMP/demo-measure.json" <<'PY' || fail "measure disagrees with the manifest"
import json, sys
m, p = json.load(open(sys.argv[1]))["measurements"]["predictions"][1], json.load(open(sys.argv[2]))
assert (m["rtmr1"], m["rtmr2"]) == (p["rtmr1"], p["rtmr2"]), (m["rtmr1"], p["rtmr1"])
PY

# 2. A second bake of the output with the same recipe re-applies nothing.
port_sets=()
while read -r name md5; do port_sets+=(--set "${name}_md5=$md5"); done < <(python3 -c '
import json, sys
for name, a in sorted(json.load(open(sys.argv[1])).items()): print(name, a["md5"])' "$(dirname "$image")/standins/artifacts.json")
capture "$CCBAKE" --cache "$(dirname "$image")/cache" bake "$CCBAKE_SRC/recipes/demo/ppcie-8gpu-demo.yaml" \
    --image "$image" --output "$work/rebake.qcow2" --format qcow2 --offline "${port_sets[@]}"
assert_rc 0
assert_contains "$out" "nothing to do" "second bake"
echo "re-bake of the output: no step re-applied"

# 3. SIGINT half-way through a bake: no output, no mounts, no loop devices; input unchanged.
before="$(sha256sum "$image" | cut -d' ' -f1)"
loops_before="$(losetup -a | wc -l)"
set +e
"$CCBAKE" bake "$CCBAKE_SRC/tests/recipes/e2e/slow.yaml" --image "$image" --output "$work/interrupted.qcow2" \
    >"$work/int.log" 2>&1 &
pid=$!
for _ in $(seq 600); do grep -q "before-the-sleep" "$work/int.log" 2>/dev/null && break; sleep 0.2; done
sleep 2
kill -INT "$pid"
wait "$pid"; rc=$?
set -e
[ "$rc" -ne 0 ] || fail "an interrupted bake exited 0"
[ ! -e "$work/interrupted.qcow2" ] || fail "an interrupted bake left its output"
ls -a "$work" | grep -q 'interrupted.qcow2.' && fail "an interrupted bake left a staged file: $(ls "$work")"
[ "$(losetup -a | wc -l)" -eq "$loops_before" ] || fail "loop devices left attached: $(losetup -a)"
! grep -q ccbake /proc/mounts || fail "mounts left behind: $(grep ccbake /proc/mounts)"
[ "$(sha256sum "$image" | cut -d' ' -f1)" == "$before" ] || fail "the input image changed"
echo "SIGINT: no output, no mounts, no loop devices, input unchanged"
