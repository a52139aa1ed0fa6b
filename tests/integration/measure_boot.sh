#!/bin/bash
# ccbake measure against a real firmware's event log. The cloud-like base (shim 16.1 and
# grub 2.06 signed, laid out as Ubuntu's cloud image; tests/fixtures/cloud-image.sh) is baked
# with a kernel command-line step (update-grub runs) and a unit that writes the TCG event log
# and the TPM's SHA-384 PCRs to the second serial port. It boots under qemu with Debian's OVMF
# and an swtpm whose SHA-384 bank is active, with Secure Boot on: only then does grub hand
# the kernel over through its EFI stub, which is what passes the event log to Linux (booted
# with Secure Boot off, grub's legacy loader skips the stub and /sys has no log).
# The first boot runs shim's fallback (\EFI\BOOT\fbx64.efi), which writes a Boot#### entry and,
# seeing a TPM, resets; the second boot goes through \EFI\debian\shimx64.efi, as predicted.
#   1. the log is genuine: its SHA-384 bank replays to the TPM's PCRs (replay-tcg-log.py);
#   2. RTMR1 and RTMR2 replayed from PCRs 2-6 and 8-15 equal `ccbake measure --firmware
#      ovmf-tpm` exactly: the firmware's events, shim's, and grub's 49 commands and files as
#      ccbake follows the generated grub.cfg;
#   3. the TD view of the log equals the TDVF prediction for RTMR1 and RTMR2. The script names
#      what it leaves out: the separators of PCRs 2, 3, 5 and 6 (TDVF logs one in RTMR1), and
#      grub's PCR 8/9 events, because this grub has no EFI_CC_MEASUREMENT_PROTOCOL (checked
#      here in its bytes) and so measures into a TPM only;
#   4. `ccbake measure --against LOG` agrees (as the TPM logged it, and in the TD view), with
#      one digest of the log changed it exits 1 naming the event, and against an image baked
#      with another kernel command line it names grub.cfg as the first RTMR2 event that
#      differs; the manifest carries the same prediction;
#   5. an image that boots grub without shim is refused with exit 3.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/image_helpers.bash"
command -v qemu-system-x86_64 >/dev/null || skip "needs qemu-system-x86 (ci/packages/image.txt)"
command -v swtpm >/dev/null || skip "needs swtpm and swtpm-tools (ci/packages/image.txt)"
code=/usr/share/OVMF/OVMF_CODE_4M.ms.fd vars=/usr/share/OVMF/OVMF_VARS_4M.ms.fd
[ -r "$code" ] && [ -r "$vars" ] || skip "needs OVMF with Secure Boot (package ovmf)"
make_scratch
replay=(python3 "$CCBAKE_SRC/tests/fixtures/measure/replay-tcg-log.py")
base="$(bash "$CCBAKE_SRC/tests/fixtures/cloud-image.sh")" || fail "cannot build the cloud-like base image"

cat > "$dir/recipe.yaml" <<'YAML'
name: measure-boot-test
base: {os: debian, version: "12", min_kernel: 6.1.0}
steps:
  - kernel_cmdline: {name: cmdline, add: ["console=ttyS0,115200", "ccbake.measured=1"]}
  - file:
      name: dump-log
      path: /etc/systemd/system/ccbake-dump-log.service
      content: |
        [Unit]
        Description=Write the TCG event log and the SHA-384 PCRs to ttyS1, then power off
        After=multi-user.target
        [Service]
        Type=oneshot
        StandardOutput=tty
        TTYPath=/dev/ttyS1
        ExecStart=/bin/sh -c 'echo LOG-BEGIN; base64 -w0 /sys/kernel/security/tpm0/binary_bios_measurements; echo; echo LOG-END; for i in 1 2 3 4 5 6 7 8 9 11 12 13 14; do echo PCR$i $(cat /sys/class/tpm/tpm0/pcr-sha384/$i); done'
        ExecStartPost=/bin/systemctl --no-block poweroff
        [Install]
        WantedBy=multi-user.target
  - run: {name: enable-dump, argv: [systemctl, enable, ccbake-dump-log.service]}
YAML
capture "$CCBAKE" --cache "$dir/cache" bake "$dir/recipe.yaml" --image "$base" --output "$dir/baked.qcow2"
assert_rc 0
assert_contains "$out" "measurements: RTMR1"

# The predictions: text, JSON, and the manifest's.
capture "$CCBAKE" measure "$dir/baked.qcow2" --secure-boot on
assert_rc 0
assert_contains "$out" "boots EFI/debian/shimx64.efi then EFI/debian/grubx64.efi"
assert_contains "$out" "EFI/BOOT/fbx64.efi is on the ESP"
assert_contains "$out" "has no EFI_CC_MEASUREMENT_PROTOCOL"
echo "$out" | sed -n '/^RTMR/p'
"$CCBAKE" --json measure "$dir/baked.qcow2" --secure-boot on >"$dir/td-sb.json"
"$CCBAKE" --json measure "$dir/baked.qcow2" --secure-boot on --firmware ovmf-tpm >"$dir/tpm-sb.json"
field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$@"; }
assert_eq "$(field "$dir/baked.qcow2.manifest.json" 'd["measurements"]["predictions"][1]["rtmr1"]')" \
    "$(field "$dir/td-sb.json" 'd["rtmr1"]')" "the manifest's RTMR1 (Secure Boot on)"
assert_eq "$(field "$dir/baked.qcow2.manifest.json" 'd["measurements"]["predictions"][1]["rtmr2"]')" \
    "$(field "$dir/td-sb.json" 'd["rtmr2"]')" "the manifest's RTMR2 (Secure Boot on)"
assert_eq "$(field "$dir/baked.qcow2.manifest.json" '[p["secure_boot"] for p in d["measurements"]["predictions"]]')" \
    "[False, True]" "the manifest's predictions"

# Boot: swtpm with sha256 and sha384 banks, OVMF with Secure Boot and Microsoft's keys.
mkdir -p "$dir/tpm"
swtpm_setup --tpm2 --tpmstate "$dir/tpm" --pcr-banks sha256,sha384 --overwrite >"$dir/swtpm-setup.log" 2>&1 ||
    { cat "$dir/swtpm-setup.log"; fail "swtpm_setup failed"; }
swtpm socket --tpm2 --tpmstate dir="$dir/tpm" --ctrl type=unixio,path="$dir/tpm/sock" \
    --pid file="$dir/tpm/pid" --daemon
trap 'kill "$(cat "$dir/tpm/pid" 2>/dev/null)" 2>/dev/null || true' EXIT
cp "$vars" "$dir/vars.fd"
accel=(-accel tcg)
[ "${CCBAKE_TEST_ACCEL:-tcg}" = kvm ] && accel=(-accel kvm -cpu host)
timeout --kill-after=10 420 qemu-system-x86_64 "${accel[@]}" -machine q35,smm=on -m 1536 -smp 2 \
    -global driver=cfi.pflash01,property=secure,value=on \
    -drive "if=pflash,format=raw,unit=0,file=$code,readonly=on" \
    -drive "if=pflash,format=raw,unit=1,file=$dir/vars.fd" \
    -chardev "socket,id=chrtpm,path=$dir/tpm/sock" -tpmdev emulator,id=tpm0,chardev=chrtpm \
    -device tpm-tis,tpmdev=tpm0 -drive "file=$dir/baked.qcow2,format=qcow2,if=virtio,snapshot=on" \
    -nic none -display none -monitor none \
    -serial "file:$dir/console.log" -serial "file:$dir/ttyS1.log" || true
grep -a -q "LOG-END" "$dir/ttyS1.log" ||
    fail "the guest wrote no event log; last console lines:"$'\n'"$(tail -n 20 "$dir/console.log")"
grep -a -q 'Boot Option Restoration' "$dir/console.log" "$dir/ttyS1.log" ||
    echo "(fallback did not announce itself on the console)"
sed -n '/LOG-BEGIN/{n;p}' "$dir/ttyS1.log" | tr -d '\r' | base64 -d >"$dir/eventlog.bin"
grep -a '^PCR' "$dir/ttyS1.log" | tr -d '\r' >"$dir/pcrs.txt"
[ -s "$dir/eventlog.bin" ] || fail "the event log is empty"
assert_contains "$(grep -a 'ccbake.measured=1' "$dir/console.log" | head -n1)" "ccbake.measured=1" "the baked command line"

# 1-2. The log is the TPM's, and RTMR1 as a TPM firmware logs it matches exactly.
"${replay[@]}" "$dir/eventlog.bin" --pcrs "$dir/pcrs.txt" --json >"$dir/replay-tpm.json" ||
    fail "the event log does not replay to the TPM's PCRs"
assert_eq "$(field "$dir/replay-tpm.json" 'd["rtmr1"]')" "$(field "$dir/tpm-sb.json" 'd["rtmr1"]')" \
    "RTMR1 replayed from the log against the ovmf-tpm prediction"
assert_eq "$(field "$dir/replay-tpm.json" 'd["rtmr2"]')" "$(field "$dir/tpm-sb.json" 'd["rtmr2"]')" \
    "RTMR2 replayed from the log (grub's events included) against the ovmf-tpm prediction"
assert_eq "$(field "$dir/replay-tpm.json" 'len(d["events"])')" "$(field "$dir/tpm-sb.json" 'len(d["events"])')" \
    "the number of events"
echo "replayed TPM log = ovmf-tpm prediction: $(field "$dir/tpm-sb.json" 'len(d["events"])') events, RTMR2 $(field "$dir/tpm-sb.json" 'd["rtmr2"][:16]')…"

# 3. The TD view: this grub cannot measure into a TD (no CC protocol GUID in its bytes).
mkdir -p "$dir/esp"
MTOOLS_SKIP_CHECK=1 mcopy -n -i "$base@@$(part_offset "$base" 15)" ::/EFI/debian/grubx64.efi "$dir/esp/"
python3 - "$dir/esp/grubx64.efi" <<'PY' || fail "the base's grub carries EFI_CC_MEASUREMENT_PROTOCOL"
import sys, uuid
sys.exit(uuid.UUID("96751a3d-72f4-41a6-a794-ed5d0e67ae6b").bytes_le in open(sys.argv[1], "rb").read())
PY
"${replay[@]}" "$dir/eventlog.bin" --td-view --grub-tpm-only >"$dir/replay-td.txt"
sed -n 's/^dropped PCR\([0-9]*\) .*: \([^:]*\)$/left out: PCR \1, \2/p' "$dir/replay-td.txt" | sort | uniq -c
"${replay[@]}" "$dir/eventlog.bin" --td-view --grub-tpm-only --json >"$dir/replay-td.json"
assert_eq "$(field "$dir/replay-td.json" 'd["rtmr1"]')" "$(field "$dir/td-sb.json" 'd["rtmr1"]')" "RTMR1 (TD view)"
assert_eq "$(field "$dir/replay-td.json" 'd["rtmr2"]')" "$(field "$dir/td-sb.json" 'd["rtmr2"]')" "RTMR2 (TD view)"
echo "replayed log = prediction: RTMR1 $(field "$dir/td-sb.json" 'd["rtmr1"][:16]')…, RTMR2 $(field "$dir/td-sb.json" 'd["rtmr2"][:16]')…"

# 4. --against: the same verdict from ccbake, and a changed digest is named.
capture "$CCBAKE" measure "$dir/baked.qcow2" --against "$dir/eventlog.bin"
assert_rc 0
assert_contains "$out" "against the prediction for ovmf-tpm, Secure Boot on"
assert_contains "$out" "RTMR1 matches"
assert_contains "$out" "RTMR2 matches"
assert_not_contains "$out" "left out"
capture "$CCBAKE" measure "$dir/baked.qcow2" --against "$dir/eventlog.bin" --firmware tdvf
assert_rc 0
assert_contains "$out" "RTMR1 matches"
assert_contains "$out" "RTMR2 matches"
assert_contains "$out" "separator event(s) of PCRs 2-6"
assert_contains "$out" "grub event(s) of PCRs 8 and 9: this grub measures into a TPM only"
python3 - "$dir/eventlog.bin" "$dir/tampered.bin" "$(field "$dir/td-sb.json" '[e["sha384"] for e in d["events"] if e["measures"].endswith("grubx64.efi")][0]')" <<'PY'
import sys
data, digest = open(sys.argv[1], "rb").read(), bytes.fromhex(sys.argv[3])
assert data.count(digest) == 1, "grub's digest is not in the log once"
changed = bytearray(digest); changed[0] ^= 0xFF
open(sys.argv[2], "wb").write(data.replace(digest, bytes(changed)))
PY
capture "$CCBAKE" measure "$dir/baked.qcow2" --against "$dir/tampered.bin"
assert_rc 1
assert_contains "$out" "RTMR1 DIFFERS"
assert_contains "$out" "first difference in RTMR1, event 9:"
assert_contains "$out" "EFI/debian/grubx64.efi"
echo "a changed grub digest: $(grep -A2 'first difference' <<<"$out" | tr -s ' ' | tr '\n' ' ')"
sed 's/ccbake.measured=1/ccbake.measured=2/' "$dir/recipe.yaml" >"$dir/other.yaml"
capture "$CCBAKE" --cache "$dir/cache" bake "$dir/other.yaml" --image "$base" --output "$dir/other.qcow2"
assert_rc 0
capture "$CCBAKE" measure "$dir/other.qcow2" --against "$dir/eventlog.bin"
assert_rc 1
assert_contains "$out" "RTMR1 matches"
assert_contains "$out" "RTMR2 DIFFERS"
assert_contains "$out" "(hd0,gpt1)/boot/grub/grub.cfg"
echo "another command line: $(grep -A2 'first difference' <<<"$out" | tr -s ' ' | tr '\n' ' ')"

# 5. grub started directly by the firmware (the plain test base): no shim, no prediction.
plain="$(bash "$CCBAKE_SRC/tests/fixtures/base-image.sh")"
capture "$CCBAKE" measure "$plain"
assert_rc 3
assert_contains "$out" "the ESP has no shim and grub boot chain"
echo "measure boot OK"
