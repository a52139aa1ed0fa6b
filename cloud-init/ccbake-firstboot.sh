#!/bin/sh
# ccbake-firstboot: the fixed first-boot helper that `ccbake render cloud-init` installs as
# /usr/lib/ccbake/ccbake-firstboot. cloud-init's runcmd calls it with argv only; recipe values
# arrive as arguments, never as script text. Results land in /var/lib/ccbake. Never reboots.
#
#   ccbake-firstboot wait-persistenced TIMEOUT_S
#   ccbake-firstboot check [--quote-dir DIR] [--qvs-dir DIR] [--venv DIR] [--gpus yes|no]
#   ccbake-firstboot step INDEX NAME ACTION ARGS...   (bake-at-boot; see actions below)
#   ccbake-firstboot finish                           (exit 1 when a step failed)
set -u
state=/var/lib/ccbake
log="$state/firstboot.log"
cache=/var/cache/ccbake/firstboot
mkdir -p "$state" "$cache"

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

# --- bake-at-boot actions --------------------------------------------------------------------
fetch() {  # FILENAME SHA256|- MD5|- URL...
    name="$1" sha="$2" md5="$3"
    shift 3
    dest="$cache/$name"
    [ -f "$dest" ] && return 0
    [ "$sha" = - ] && [ "$md5" = - ] && die "$name has no pinned digest; refusing to use it unverified"
    for url in "$@"; do
        rm -f "$dest.partial"
        if command -v curl >/dev/null; then curl -fsSL --retry 3 -o "$dest.partial" "$url"
        else wget -q -O "$dest.partial" "$url"; fi || { say "download failed: $url"; continue; }
        if [ "$sha" != - ]; then
            got="$(sha256sum "$dest.partial" | cut -d' ' -f1)"
            [ "$got" = "$sha" ] || { say "$url: sha256 $got, expected $sha"; continue; }
        fi
        if [ "$md5" != - ]; then
            got="$(md5sum "$dest.partial" | cut -d' ' -f1)"
            [ "$got" = "$md5" ] || { say "$url: md5 $got, expected $md5"; continue; }
        fi
        chmod 0755 "$dest.partial"
        mv "$dest.partial" "$dest"
        return 0
    done
    rm -f "$dest.partial"
    die "could not fetch a verified $name"
}

unpack() {  # FILENAME DEST STRIP  (only when DEST does not exist yet)
    [ -e "$2" ] && { say "$2 exists: not unpacking $1"; return 0; }
    mkdir -p "$2.ccbake-partial"
    tar -x -f "$cache/$1" -C "$2.ccbake-partial" --strip-components="$3" --no-same-owner \
        --no-same-permissions || { rm -rf "$2.ccbake-partial"; die "cannot unpack $1"; }
    mv "$2.ccbake-partial" "$2"
}

install_file() {  # SRC DEST MODE OWNER   (SRC: a staged file or an artifact's FILENAME)
    src="$1"
    [ -f "$src" ] || src="$cache/$1"
    mkdir -p "$(dirname "$2")"
    install -m "$3" -o "${4%%:*}" -g "${4#*:}" "$src" "$2"
}

check_deb() {  # FILENAME PACKAGE VERSION
    p="$(dpkg-deb -f "$cache/$1" Package)" v="$(dpkg-deb -f "$cache/$1" Version)"
    if [ "$p" != "$2" ] || [ "$v" != "$3" ]; then die "$1 is $p $v, the recipe expects $2 $3"; fi
}

run() {  # CREATES|- VERIFY(yes|no) ENV_FILE|- CWD ARGV...
    # Skipped when CREATES exists; with VERIFY=yes the command must create it. ENV_FILE, a
    # fixed path from the recipe, is sourced before the command (e.g. the SGX SDK's).
    creates="$1" verify="$2" env_file="$3" cwd="$4"
    shift 4
    if [ "$creates" != - ] && [ -e "$creates" ]; then say "$creates exists: skipped"; return 0; fi
    if [ "$env_file" != - ]; then
        [ -f "$env_file" ] || die "environment file $env_file is missing"
        # shellcheck disable=SC1090
        (. "$env_file" && cd "$cwd" && "$@") >>"$log" 2>&1 || die "command failed: $*"
    else
        (cd "$cwd" && "$@") >>"$log" 2>&1 || die "command failed: $*"
    fi
    if [ "$verify" = yes ] && [ ! -e "$creates" ]; then die "$* did not create $creates"; fi
}

answers() {  # CREATES N ANSWER... ARGV...   (answers on standard input, one per line)
    creates="$1" n="$2"
    shift 2
    if [ -e "$creates" ]; then say "$creates exists: skipped"; return 0; fi
    input=""
    while [ "$n" -gt 0 ]; do input="$input$1
"; shift; n=$((n - 1)); done
    printf '%s' "$input" | "$@" >>"$log" 2>&1 || die "installer failed: $*"
    [ -e "$creates" ] || die "$* did not create $creates"
}

newest_kernel() { find /lib/modules -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1; }

nvidia_run() {  # FILENAME KERNEL|auto ARGS...
    file="$1" kernel="$2"
    shift 2
    [ "$kernel" = auto ] && kernel="$(newest_kernel)"
    sh "$cache/$file" --kernel-name="$kernel" "$@" >>"$log" 2>&1 || die "NVIDIA installer failed"
}

initramfs() {  # KERNEL|auto
    kernel="$1"
    [ "$kernel" = auto ] && kernel="$(newest_kernel)"
    command -v update-initramfs >/dev/null || { say "no update-initramfs: skipped"; return 0; }
    update-initramfs -u -k "$kernel" >>"$log" 2>&1 || die "update-initramfs failed"
}

grub_cmdline() {  # DROPIN UPDATE(yes|no) NREMOVE REMOVE... ADD...
    dropin="$1" update="$2" n="$3"
    shift 3
    remove=""
    while [ "$n" -gt 0 ]; do remove="$remove $1"; shift; n=$((n - 1)); done
    # The value grub would use without our drop-in: its files, sourced in grub's order.
    current="$(
        GRUB_CMDLINE_LINUX_DEFAULT=""
        # shellcheck disable=SC1090,SC1091
        [ -f /etc/default/grub ] && . /etc/default/grub
        for f in /etc/default/grub.d/*.cfg; do
            # shellcheck disable=SC1090
            [ -f "$f" ] && [ "$(basename "$f")" != "$dropin" ] && . "$f"
        done
        printf '%s' "$GRUB_CMDLINE_LINUX_DEFAULT"
    )"
    value=""
    for arg in $current; do
        drop=no
        for r in $remove; do
            [ "$arg" = "$r" ] && drop=yes
            case "$r" in *=*) ;; *) [ "${arg%%=*}" = "$r" ] && drop=yes ;; esac
        done
        for a in "$@"; do
            [ "${a%%=*}" = "${arg%%=*}" ] && [ "${a%%=*}" != console ] && drop=yes
        done
        [ "$drop" = no ] && value="$value${value:+ }$arg"
    done
    for a in "$@"; do
        case " $value " in *" $a "*) ;; *) value="$value${value:+ }$a" ;; esac
    done
    mkdir -p /etc/default/grub.d
    printf '# Written by ccbake (bake-at-boot).\nGRUB_CMDLINE_LINUX_DEFAULT="%s"\n' "$value" \
        >"/etc/default/grub.d/$dropin"
    say "GRUB_CMDLINE_LINUX_DEFAULT=\"$value\""
    if [ "$update" = yes ] && command -v update-grub >/dev/null; then update-grub >>"$log" 2>&1 || die "update-grub failed"; fi
}

json_edit() {  # PATH (set KEY JSON | host KEY HOST:PORT)...   comment-preserving, in place
    command -v python3 >/dev/null || die "json_edit needs python3 in the image"
    python3 - "$@" <<'EOF' >>"$log" 2>&1 || die "cannot edit $1 as JSON"
import json, re, sys
path, args = sys.argv[1], sys.argv[2:]
text = open(path).read()
for i in range(0, len(args), 3):
    op, key, val = args[i:i + 3]
    pat = re.compile(r'("%s"\s*:\s*)("(?:[^"\\]|\\.)*"|true|false|null|-?[0-9.eE+-]+)' % re.escape(key))
    m = pat.search(text)
    if op == "host":
        if not m or not m.group(2).startswith('"'):
            sys.exit("%s: no string key %s" % (path, key))
        url = json.loads(m.group(2))
        new = json.dumps(re.sub(r"^([a-z]+://)[^/]+", lambda g: g.group(1) + val, url))
    else:
        new = json.dumps(json.loads(val))
    if m:
        text = text[:m.start(2)] + new + text[m.end(2):]
    else:
        brace = text.index("{")
        text = text[:brace + 1] + '\n  "%s": %s,' % (key, new) + text[brace + 1:]
open(path + ".ccbake-tmp", "w").write(text)
EOF
    mv "$1.ccbake-tmp" "$1"
}

step() {  # INDEX NAME ACTION ARGS...
    index="$1" name="$2" action="$3"
    shift 3
    if [ -e "$state/firstboot.failed" ]; then
        say "step $index ($name): not run, an earlier step failed"
        return 0
    fi
    say "step $index ($name): $action"
    case "$action" in
    fetch) (fetch "$@") ;;
    unpack) (unpack "$@") ;;
    install-file) (install_file "$@") ;;
    check-deb) (check_deb "$@") ;;
    run) (run "$@") ;;
    answers) (answers "$@") ;;
    nvidia-run) (nvidia_run "$@") ;;
    initramfs) (initramfs "$@") ;;
    grub-cmdline) (grub_cmdline "$@") ;;
    json-edit) (json_edit "$@") ;;
    *) (die "unknown action $action") ;;
    esac || { echo "$index $name" >"$state/firstboot.failed"; say "step $index ($name) FAILED"; }
    return 0
}

finish() {
    if [ -e "$state/firstboot.failed" ]; then
        say "bake-at-boot FAILED at step $(cat "$state/firstboot.failed"); see $log"
        exit 1
    fi
    say "bake-at-boot: every step done (a new kernel or driver needs a stop/start from the console)"
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
wait-persistenced) wait_persistenced "$@" ;;
check) check "$@" ;;
step) step "$@" ;;
finish) finish ;;
*) die "usage: ccbake-firstboot wait-persistenced|check|step|finish ..." ;;
esac
