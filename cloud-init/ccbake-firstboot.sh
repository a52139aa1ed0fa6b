#!/bin/sh
# ccbake-firstboot: the fixed first-boot helper that `ccbake render cloud-init` installs as
# /usr/lib/ccbake/ccbake-firstboot. cloud-init's runcmd calls it with argv only; recipe values
# arrive as arguments, never as script text. Results land in /var/lib/ccbake. Never reboots.
#
#   ccbake-firstboot wait-persistenced TIMEOUT_S
#   ccbake-firstboot check [--quote-dir DIR] [--qvs-dir DIR] [--venv DIR] [--gpus yes|no]
set -u
state=/var/lib/ccbake
log="$state/firstboot.log"
mkdir -p "$state"

say() { printf 'ccbake-firstboot: %s\n' "$*" | tee -a "$log" >&2; }
die() { say "error: $*"; exit 1; }

# --- waiting for the GPU stack -------------------------------------------------------------
# Nothing may touch the GPU before nvidia-persistenced is active (CC-mode init of 8 GPUs takes
# about 5 minutes). Writes persistenced=active|absent|timeout to $state/persistenced.
wait_persistenced() {
    timeout_s="$1"
    if ! systemctl cat nvidia-persistenced.service >/dev/null 2>&1; then
        say "nvidia-persistenced.service is not installed: GPU checks will be skipped"
        echo absent >"$state/persistenced"
        return 0
    fi
    waited=0
    while [ "$waited" -lt "$timeout_s" ]; do
        if [ "$(systemctl is-active nvidia-persistenced.service 2>/dev/null)" = active ]; then
            say "nvidia-persistenced is active after ${waited}s"
            echo active >"$state/persistenced"
            return 0
        fi
        sleep 5
        waited=$((waited + 5))
    done
    say "nvidia-persistenced is not active after ${timeout_s}s: GPU checks will not run"
    echo timeout >"$state/persistenced"
    return 1
}

# --- guest checks ----------------------------------------------------------------------------
# One JSON object per check, collected into $state/firstboot-check.json. Names and outcomes
# are fixed words, so no escaping is needed.
results=""
failed=0
record() {  # NAME pass|fail|skip DETAIL-WORDS
    say "check $1: $2${3:+ ($3)}"
    [ "$2" = fail ] && failed=$((failed + 1))
    results="${results}${results:+,}{\"check\":\"$1\",\"result\":\"$2\"}"
}

check_fallback() {
    quote_dir="$1" qvs_dir="$2" venv="$3" gpus="$4"
    # MISSION step 2: TDX guest.
    if lscpu 2>/dev/null | grep -qi tdx_guest; then record tdx_cpu_flag pass; else record tdx_cpu_flag fail; fi
    if [ -e /dev/tdx_guest ]; then record tdx_guest_device pass; else record tdx_guest_device fail; fi
    if dmesg 2>/dev/null | grep -qi tdx; then record tdx_dmesg pass; else record tdx_dmesg fail; fi
    # MISSION step 3: TD quote generation and verification.
    if [ -n "$quote_dir" ] && [ -x "$quote_dir/test_tdx_attest" ]; then
        out="$(cd "$state" && "$quote_dir/test_tdx_attest" 2>&1)"
        printf '%s\n' "$out" >>"$log"
        if printf '%s' "$out" | grep -q "Successfully get the TD Quote"; then record td_quote pass
        else record td_quote fail; fi
        if [ -n "$qvs_dir" ] && [ -x "$qvs_dir/app" ] && [ -f "$state/quote.dat" ]; then
            out="$(cd "$qvs_dir" && ./app -quote "$state/quote.dat" 2>&1)"
            printf '%s\n' "$out" >>"$log"
            if printf '%s' "$out" | grep -q "Verification completed successfully"; then record quote_verify pass
            else record quote_verify fail; fi
        else
            record quote_verify skip "no verifier or no quote"
        fi
    else
        record td_quote skip "no quote generator in the image"
    fi
    # MISSION step 4: GPU and NVSwitch attestation, only once persistenced is active.
    if [ "$gpus" != yes ]; then
        record ppcie_verifier skip "nvidia-persistenced is not active"
    elif [ -n "$venv" ] && [ -x "$venv/bin/python3" ]; then
        out="$("$venv/bin/python3" -m ppcie.verifier.verification \
            --gpu-attestation-mode=REMOTE --switch-attestation-mode=REMOTE 2>&1)"
        printf '%s\n' "$out" >>"$log"
        if printf '%s' "$out" | grep -q "GPU state is READY"; then record ppcie_verifier pass
        else record ppcie_verifier fail; fi
    else
        record ppcie_verifier skip "no PPCIe verifier in the image"
    fi
}

check() {
    quote_dir="" qvs_dir="" venv="" gpus=""
    while [ $# -gt 0 ]; do
        case "$1" in
        --quote-dir) quote_dir="$2"; shift 2 ;;
        --qvs-dir) qvs_dir="$2"; shift 2 ;;
        --venv) venv="$2"; shift 2 ;;
        --gpus) gpus="$2"; shift 2 ;;
        *) die "check: unknown option $1" ;;
        esac
    done
    if [ -z "$gpus" ]; then
        gpus=no
        [ "$(cat "$state/persistenced" 2>/dev/null)" = active ] && gpus=yes
    fi
    out_file="$state/firstboot-check.json"
    if [ -x /usr/lib/ccbake/ccbake-check ]; then
        say "running /usr/lib/ccbake/ccbake-check --json"
        /usr/lib/ccbake/ccbake-check --json >"$out_file.tmp" 2>>"$log"
        rc=$?
        mv "$out_file.tmp" "$out_file"
        say "ccbake-check exited $rc; result in $out_file"
        echo "$rc" >"$state/firstboot-check.rc"
        return "$rc"
    fi
    say "no /usr/lib/ccbake/ccbake-check in the image: running the vendor's guest checks"
    check_fallback "$quote_dir" "$qvs_dir" "$venv" "$gpus"
    printf '{"checker":"ccbake-firstboot","failed":%d,"checks":[%s]}\n' "$failed" "$results" >"$out_file.tmp"
    mv "$out_file.tmp" "$out_file"
    say "guest checks: $failed failed; result in $out_file"
    echo "$failed" >"$state/firstboot-check.rc"
    [ "$failed" -eq 0 ]
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
wait-persistenced) wait_persistenced "$@" ;;
check) check "$@" ;;
*) die "usage: ccbake-firstboot wait-persistenced|check ..." ;;
esac
