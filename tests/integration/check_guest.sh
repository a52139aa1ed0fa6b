#!/bin/bash
# ccbake-check against recorded guests: a tree of /proc, /sys and /dev files (--root) and
# stand-in tools on PATH that print the recorded output of nvidia-smi, systemctl, the DCAP
# samples and the PPCIe verifier. Covers the plain qemu VM (TDX absent, GPU absent), the
# 8-GPU PPCIe node where everything passes, bounded waits, and configuration errors.
source "$(dirname "$0")/lib.sh"
checker="$(dirname "$CCBAKE")/ccbake-check"
[ -x "$checker" ] || fail "no $checker: build the ccbake-check target"
fx="$CCBAKE_SRC/tests/fixtures/check"
work="$(scratch)"

# --- a recorded system -----------------------------------------------------------------
make_root() {  # dir cpuinfo kmsg release cmdline
    local r="$1"
    mkdir -p "$r/proc/sys/kernel" "$r/dev" "$r/sys/bus/pci/devices"
    cp "$fx/kernel/$2" "$r/proc/cpuinfo"
    cp "$fx/kernel/$3" "$r/dev/kmsg"
    echo "$4" >"$r/proc/sys/kernel/osrelease"
    echo "$5" >"$r/proc/cmdline"
}
pci() {  # root addr class
    mkdir -p "$1/sys/bus/pci/devices/$2"
    echo 0x10de >"$1/sys/bus/pci/devices/$2/vendor"
    echo "$3" >"$1/sys/bus/pci/devices/$2/class"
}
tool() {  # bin-dir name script-body
    printf '#!/bin/bash\n%s\n' "$3" >"$1/$2"
    chmod +x "$1/$2"
}

qemu="$work/qemu"
make_root "$qemu" qemu.cpuinfo qemu.dmesg 6.1.0-41-amd64 "ro console=ttyS0 swiotlb=2097152"

node="$work/node"
make_root "$node" tdx-guest.cpuinfo tdx-guest.kmsg 6.8.0-1028-intel \
    "ro console=tty1 console=ttyS0 swiotlb=2097152 iommu=pt noccfilter"
touch "$node/dev/tdx_guest"
mkdir -p "$node/sys/kernel/config/tsm/report/ccbake-check"
echo tdx_guest >"$node/sys/kernel/config/tsm/report/ccbake-check/provider"
for i in 0 1 2 3 4 5 6 7; do pci "$node" "0000:0$i:00.0" 0x030200; done
for i in 0 1 2 3; do pci "$node" "0000:1$i:00.0" 0x068000; done

bin="$work/bin" calls="$work/calls"
mkdir -p "$bin"
tool "$bin" systemctl "echo \"systemctl \$*\" >>'$calls'
case \"\$*\" in
  'show -p LoadState --value '*) echo loaded ;;
  'is-active nvidia-persistenced.service')
    n=\$(grep -c 'is-active nvidia-persistenced' '$calls')
    if [ \"\$n\" -le \"\${PERSISTENCED_ACTIVATING:-0}\" ]; then echo activating; exit 3; fi
    echo active ;;
  'is-active '*) echo active ;;
esac"
tool "$bin" nvidia-smi "echo \"nvidia-smi \$*\" >>'$calls'
case \"\$*\" in
  '-L') cat '$fx/nvidia-smi/L-8xH100.txt' ;;
  'conf-compute -f') cat '$fx/nvidia-smi/conf-compute-f-off.txt' ;;
  'conf-compute -q') cat '$fx/nvidia-smi/conf-compute-q-ppcie.txt' ;;
  'conf-compute -grs') cat '$fx/nvidia-smi/conf-compute-grs-ready.txt' ;;
  *) echo \"unexpected: \$*\"; exit 1 ;;
esac"
tool "$bin" test_tdx_attest "cat '$fx/dcap/test_tdx_attest-ok.txt'; echo quote >quote.dat"
tool "$bin" app "[ \"\$1\" = -quote ] && [ -s \"\$2\" ] || { echo '[APP] Error: Unable to open quote file'; exit 255; }
cat '$fx/dcap/qvs-ok.txt'; exit 255"
tool "$bin" python3 "[ \"\$*\" = '-m ppcie.verifier.verification --gpu-attestation-mode=REMOTE --switch-attestation-mode=REMOTE' ] || exit 2
[ -n \"\${PPCIE_HANG:-}\" ] && sleep 60
cat \"$fx/ppcie/\${PPCIE_FIXTURE:-success-8gpu-4switch.txt}\""

config() {  # file json-body
    printf '{%s, "tools": {"tdx_attest": "%s", "quote_verify": "%s", "ppcie_python": "%s"}}\n' \
        "$2" "$bin/test_tdx_attest" "$bin/app" "$bin/python3" >"$1"
}
run_checker() {  # root config [args...]
    local root="$1" cfg="$2"
    shift 2
    : >"$calls"
    capture env PATH="$bin:/usr/bin:/bin" "$checker" --root "$root" --config "$cfg" "$@"
}

# --- the demo VM under qemu: no TDX, no GPU ---------------------------------------------
config "$work/all.json" '"gpu_mode": "ppcie", "min_kernel": "6.1.0", "swiotlb_bytes": 4294967296'
run_checker "$qemu" "$work/all.json" --write "$work/qemu-report.json"
assert_rc 1
assert_contains "$out" "TDX absent: no tdx_guest flag in /proc/cpuinfo"
assert_contains "$out" "TDX absent: no /dev/tdx_guest"
assert_contains "$out" "GPU absent: no NVIDIA GPU on the PCI bus"
assert_contains "$out" "NOT OK"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] is False and len(d["checks"]) == 15, d' \
    "$work/qemu-report.json" || fail "the written report is not the JSON expected"
[ ! -s "$calls" ] || fail "with no GPU and no TDX no tool may run; ran: $(cat "$calls")"

config "$work/kernel-only.json" '"required": ["kernel.version"], "gpu_mode": "ppcie", "min_kernel": "6.1.0"'
run_checker "$qemu" "$work/kernel-only.json" --json
assert_rc 0
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); c={x["id"]: x for x in d["checks"]}
assert d["ok"] and c["kernel.version"]["status"] == "pass" and c["tdx.device"]["status"] == "skip", d' "$out" \
    || fail "--json: expected ok with tdx.device skipped; got $out"
echo "plain VM: TDX absent and GPU absent reported; exit 1 when required, 0 when only the kernel is"

# --- the vendor's 8-GPU PPCIe node -----------------------------------------------------
mkdir -p "$work/tmp"
TMPDIR="$work/tmp" run_checker "$node" "$work/all.json"
assert_rc 0
[ -z "$(ls -A "$work/tmp")" ] || fail "the quote's scratch directory was left behind: $(ls "$work/tmp")"
assert_contains "$out" "8 GPUs, 4 NVSwitches; all 5 stages SUCCESS; GPU state is READY"
assert_contains "$out" "Successfully get the TD Quote"
assert_contains "$out" "[APP] Info: App: Verification completed successfully."
assert_contains "$out" "kernel mapped 4096 MiB"
assert_contains "$out" "14 passed, 0 failed, 1 skipped; OK" # attest.gpu: single-GPU only
[ -z "$(ls -A "$node/sys/kernel/config/tsm/report" | grep -v '^ccbake-check$')" ] || fail "tsm entries left behind"
echo "8-GPU PPCIe node: every check passes"

PPCIE_FIXTURE=gpu-attestation-failed.txt run_checker "$node" "$work/all.json"
assert_rc 1
assert_contains "$out" "stage GPU Attestation FAILED"

# --- bounded waits ---------------------------------------------------------------------
config "$work/short.json" '"gpu_mode": "ppcie", "persistenced_timeout_s": 6, "attestation_timeout_s": 2'
PERSISTENCED_ACTIVATING=1 run_checker "$node" "$work/short.json"
assert_contains "$out" "nvidia-persistenced.service active after 5s"
PERSISTENCED_ACTIVATING=100 run_checker "$node" "$work/short.json"
assert_rc 1
assert_contains "$out" "nvidia-persistenced.service still activating after 6s"
assert_contains "$out" "not run: nvidia-persistenced is not active"
! grep -q '^nvidia-smi' "$calls" || fail "nvidia-smi ran before nvidia-persistenced was active: $(cat "$calls")"
start=$SECONDS
PPCIE_HANG=1 run_checker "$node" "$work/short.json"
assert_contains "$out" "the PPCIe verifier did not finish within 2s"
[ $((SECONDS - start)) -lt 20 ] || fail "a hanging verifier held the checker for $((SECONDS - start))s"
echo "waits are bounded: persistenced timeout, hanging verifier killed"

# --- configuration errors --------------------------------------------------------------
echo '{"requird": ["tdx"]}' >"$work/bad.json"
run_checker "$node" "$work/bad.json"
assert_rc 2
assert_contains "$out" "unknown key 'requird'"
run_checker "$node" "$work/missing.json"
assert_rc 2
echo "bad configuration: exit 2 naming the key"
