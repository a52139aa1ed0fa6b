#!/bin/bash
# The configuring step kinds on a real Debian 12 root through `ccbake bake --rootfs`: files with
# owners from the image, run with env/cwd/creates, Intel's qcnl file edited as JSON, a modprobe
# file with the initramfs refreshed, systemd ordering (the vendor's faulty unit corrected) shown
# by systemd itself, and the grub drop-in winning over 50-cloudimg-settings.cfg. Then the same
# steps applied again change nothing, and broken inputs are refused.
source "$(dirname "$0")/lib.sh"

# A Debian 12 root on tmpfs, Debian 12 test recipes, and systemd's own view of the baked root.
[ "$(id -u)" -eq 0 ] || skip "needs root (chroot, mounts)"
work="$(mktemp -d /var/tmp/ccbake-steps-config.XXXXXX)"
cleanup() {
    umount -l "$work/root" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/root" "$work/cache" "$work/logs"

fresh_root() {  # a copy of the cached base root (tarball or folder) in $work/root, on tmpfs
    umount -l "$work/root" 2>/dev/null || true
    mount -t tmpfs -o size=4g,mode=0755 ccbake-test "$work/root"
    local base
    base="$("$CCBAKE_SRC/tests/fixtures/base-rootfs.sh")" || fail "cannot build the Debian 12 base root (tests/fixtures/base-rootfs.sh)"
    if [ -d "$base" ]; then cp -a "$base/." "$work/root/"; else tar -xpf "$base" --numeric-owner -C "$work/root"; fi
}

recipe() {  # NAME: writes $work/NAME.yaml, a Debian 12 test recipe with the steps on stdin
    { echo "name: $1"
      echo "description: steps_config integration test"
      echo "base: {os: debian, version: \"12\", min_kernel: 6.1.0}"
      echo "steps:"
      cat; } > "$work/$1.yaml"
}

bake() {  # NAME: bakes $work/NAME.yaml into $work/root; output in $out, status in $rc
    capture timeout 300 "$CCBAKE" --cache "$work/cache" bake "$work/$1.yaml" --rootfs "$work/root" \
        --log-dir "$work/logs/$1"
}
# Forgets what the journal says was applied, so the next bake applies every step again.
forget_journal() { rm -f "$work/root/var/lib/ccbake/journal.json"; }
in_root() { chroot "$work/root" "$@"; }

# GRUB_CMDLINE_LINUX_DEFAULT as grub-mkconfig computes it: /etc/default/grub, then grub.d/*.cfg.
effective_cmdline() {
    in_root /bin/sh -c '. /etc/default/grub; for f in /etc/default/grub.d/*.cfg; do . "$f"; done
                        printf %s "$GRUB_CMDLINE_LINUX_DEFAULT"'
}

# systemd's own dump of the boot transaction (test mode, which refuses to run as root).
systemd_dump() {
    unshare -m --propagation private /bin/bash -c '
        r="$1"; mount -t proc proc "$r/proc"; mount --rbind /sys "$r/sys"; mount --rbind /dev "$r/dev"
        mount -t tmpfs tmpfs "$r/run"
        # systemd needs the cgroup2 hierarchy; a minimal container may not mount it in /sys.
        mountpoint -q "$r/sys/fs/cgroup" || mount -t cgroup2 none "$r/sys/fs/cgroup"
        chroot "$r" setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/ \
            /lib/systemd/systemd --test --system --unit=multi-user.target --no-pager' dump "$work/root" 2>&1
}
# The "KEY: OTHER" dependencies systemd records for UNIT in a systemd_dump.
unit_deps() {  # DUMP UNIT KEY
    awk -v u="-> Unit $2:" -v k="$3:" '$0 ~ /^\t-> Unit / { on = (index($0, u) > 0) }
        on && $1 == k { print $2 }' <<<"$1" | sort -u
}

fresh_root
qcnl="$CCBAKE_SRC/tests/fixtures/qcnl/sgx_default_qcnl.conf"
cp "$qcnl" "$work/root/etc/sgx_default_qcnl.conf"
kernel="$(ls "$work/root/lib/modules" | sort -V | tail -n1)"
initrd_before="$(stat -c %Y "$work/root/boot/initrd.img-$kernel")"
vendor_line="console=tty1 console=ttyS0 console=hvc0 iommu=pt noccfilter ioremap_force_shared authorize_allow_devs=ALL:ALL"

recipe config <<'YAML'
  - file:
      name: cloudimg-settings
      path: /etc/default/grub.d/50-cloudimg-settings.cfg
      content: |
        # As Ubuntu cloud images ship it: read after /etc/default/grub.
        GRUB_CMDLINE_LINUX_DEFAULT="console=tty1 console=ttyS0"
  - run:
      name: persistenced-user
      argv: [/bin/sh, -c, "getent passwd nvidia-persistenced || useradd --system --no-create-home nvidia-persistenced"]
  - file:
      name: persistenced-stand-in
      path: /usr/bin/nvidia-persistenced
      mode: "0755"
      content: "#!/bin/sh\nexit 0\n"
  - file:
      name: owned-by-image-user
      path: /var/lib/nvidia-persistenced/state
      mode: "0600"
      owner: nvidia-persistenced:nvidia-persistenced
      content: "stand-in\n"
  - file:
      name: vendor-unit
      path: /usr/lib/systemd/system/nvidia-persistenced.service
      content: |
        [Unit]
        Description=NVIDIA Persistence Daemon
        After=syslog.target

        [Service]
        Type=forking
        PIDFile=/var/run/nvidia-persistenced/nvidia-persistenced.pid
        Restart=always
        ExecStart=/usr/bin/nvidia-persistenced --verbose
        ExecStopPost=/bin/rm -rf /var/run/nvidia-persistenced/*
        TimeoutSec=600

        [Install]
        WantedBy=multi-user.target
        Before=nvidia-fabricmanager.service
  - run:
      name: env-and-cwd
      argv: [/bin/sh, -c, 'printf "%s in %s\n" "$GREETING" "$(pwd)" > ran.txt']
      env: {GREETING: hello}
      cwd: /var/tmp
      creates: /var/tmp/ran.txt
  - json_edit:
      path: /etc/sgx_default_qcnl.conf
      set: {use_secure_cert: true}
      replace_host: {pccs_url: "pccs.example.com:8081"}
  - modprobe:
      file: nvidia-lkca.conf
      softdeps:
        - module: nvidia
          pre: [ecdsa_generic, ecdh]
  - systemd:
      units:
        - name: nvidia-fabricmanager.service
          content: |
            [Unit]
            Description=fabric manager stand-in
            [Service]
            Type=oneshot
            ExecStart=/bin/true
            [Install]
            WantedBy=multi-user.target
        - name: bcm-agent.service
          content: |
            [Unit]
            Description=agent stand-in
            [Service]
            ExecStart=/bin/sleep infinity
            [Install]
            WantedBy=multi-user.target
      ordering:
        - unit: bcm-agent.service
          after: [nvidia-persistenced.service]
          wants: [nvidia-persistenced.service]
        - unit: nvidia-fabricmanager.service
          after: [nvidia-persistenced.service]
      enable: [nvidia-persistenced.service, nvidia-fabricmanager.service, bcm-agent.service]
  - kernel_cmdline:
      swiotlb: 4GiB
      add: [console=tty1, console=ttyS0, console=hvc0, iommu=pt, noccfilter, ioremap_force_shared, "authorize_allow_devs=ALL:ALL"]
      remove: [quiet]
      update_grub: false
YAML
bake config
echo "$out"
assert_rc 0

# file: owner resolved in the image, mode kept
uid="$(in_root id -u nvidia-persistenced)"
assert_eq "$(stat -c '%u %a' "$work/root/var/lib/nvidia-persistenced/state")" "$uid 600" "owner and mode"
# run: env and cwd inside the chroot
assert_eq "$(cat "$work/root/var/tmp/ran.txt")" "hello in /var/tmp" "run env/cwd"
# json_edit: exactly the two values changed, every comment kept
assert_eq "$(diff "$qcnl" "$work/root/etc/sgx_default_qcnl.conf" | grep -c '^>')" "2" "changed lines"
assert_contains "$(cat "$work/root/etc/sgx_default_qcnl.conf")" '"pccs_url": "https://pccs.example.com:8081/sgx/certification/v4/"'
assert_contains "$(cat "$work/root/etc/sgx_default_qcnl.conf")" ',"use_secure_cert": true'
assert_eq "$(grep -c '//' "$work/root/etc/sgx_default_qcnl.conf")" "$(grep -c '//' "$qcnl")" "comment lines"
# modprobe: the file, and this kernel's initramfs rebuilt carrying it
assert_contains "$(cat "$work/root/etc/modprobe.d/nvidia-lkca.conf")" "softdep nvidia pre: ecdsa_generic ecdh"
[ "$(stat -c %Y "$work/root/boot/initrd.img-$kernel")" -ge "$initrd_before" ] || fail "initramfs not refreshed"
assert_contains "$(in_root lsinitramfs "/boot/initrd.img-$kernel")" "etc/modprobe.d/nvidia-lkca.conf" "initramfs"
# grub: the drop-in wins over 50-cloudimg-settings.cfg; quiet removed
assert_eq "$(effective_cmdline)" "$vendor_line swiotlb=2097152" "effective GRUB_CMDLINE_LINUX_DEFAULT"
# systemd: its own view of the boot transaction has the order the recipe asked for, and the
# vendor's Before= (ignored under [Install]) is now honoured through the drop-in.
dump="$(systemd_dump)"
assert_contains "$(unit_deps "$dump" bcm-agent.service After)" "nvidia-persistenced.service" "bcm-agent After"
assert_contains "$(unit_deps "$dump" bcm-agent.service Wants)" "nvidia-persistenced.service" "bcm-agent Wants"
assert_contains "$(unit_deps "$dump" nvidia-fabricmanager.service After)" "nvidia-persistenced.service" "fabricmanager After"
assert_contains "$(unit_deps "$dump" nvidia-persistenced.service Before)" "nvidia-fabricmanager.service" "persistenced Before"
assert_contains "$(cat "$work/root/etc/systemd/system/nvidia-persistenced.service.d/50-ccbake-ordering.conf")" \
    "was under [Install]"
[ -L "$work/root/etc/systemd/system/multi-user.target.wants/bcm-agent.service" ] || fail "bcm-agent not enabled"

# The same steps applied again (journal forgotten): every step reports no change.
forget_journal
snapshot="$(cd "$work/root" && find etc boot var/lib/nvidia-persistenced usr/lib/systemd -newer "$work/config.yaml" -printf '%p %T@\n' 2>/dev/null | sort)"
bake config
assert_rc 0
journal="$(cat "$work/root/var/lib/ccbake/journal.json")"
python3 - "$work/root/var/lib/ccbake/journal.json" <<'PY' || fail "re-apply changed something: $journal"
import json, sys
steps = json.load(open(sys.argv[1]))["steps"]
changed = {s["name"]: s["changes"] for s in steps if s["changes"] and s["kind"] != "run"}
assert not changed, changed
PY
assert_eq "$(cd "$work/root" && find etc boot var/lib/nvidia-persistenced usr/lib/systemd -newer "$work/config.yaml" -printf '%p %T@\n' 2>/dev/null | sort)" \
    "$snapshot" "files touched by the second apply"
assert_eq "$(effective_cmdline)" "$vendor_line swiotlb=2097152" "no duplicate after re-apply"

# A changed swiotlb size replaces the old value.
sed -i 's/swiotlb: 4GiB/swiotlb: 8GiB/' "$work/config.yaml"
bake config
assert_rc 0
assert_eq "$(effective_cmdline)" "$vendor_line swiotlb=4194304" "swiotlb replaced"

# Refused: broken qcnl JSON (file untouched), a cycle, a nonsense size, the vendor's unit in a recipe.
printf '{\n  "pccs_url": "https://localhost:8081/sgx/certification/v4/"\n  "use_secure_cert": false\n}\n' \
    > "$work/root/etc/sgx_default_qcnl.conf"
cp "$work/root/etc/sgx_default_qcnl.conf" "$work/broken.conf"
recipe broken-json <<'YAML'
  - json_edit: {path: /etc/sgx_default_qcnl.conf, set: {use_secure_cert: true}}
YAML
bake broken-json
assert_rc 1
assert_contains "$out" "/etc/sgx_default_qcnl.conf:3:3: expected ',' or '}'"
cmp -s "$work/broken.conf" "$work/root/etc/sgx_default_qcnl.conf" || fail "broken qcnl file was rewritten"

recipe cycle <<'YAML'
  - systemd:
      ordering:
        - {unit: a.service, after: [b.service]}
        - {unit: b.service, after: [a.service]}
YAML
bake cycle
assert_rc 2
assert_contains "$out" "ordering cycle:"
recipe bad-size <<'YAML'
  - kernel_cmdline: {swiotlb: 4 lightyears, update_grub: false}
YAML
bake bad-size
assert_rc 2
assert_contains "$out" "swiotlb"
recipe vendor-unit <<'YAML'
  - systemd:
      units:
        - name: nvidia-persistenced.service
          content: "[Service]\nExecStart=/usr/bin/nvidia-persistenced\n[Install]\nWantedBy=multi-user.target\nBefore=nvidia-fabricmanager.service\n"
YAML
bake vendor-unit
assert_rc 2
assert_contains "$out" "is under [Install], where systemd ignores it"
# update-grub cannot work on a bare directory (no block device behind /): a clear error.
recipe grub-on-dir <<'YAML'
  - kernel_cmdline: {add: [iommu=pt]}
YAML
bake grub-on-dir
assert_rc 1
assert_contains "$out" "update-grub failed in the image"
assert_contains "$out" "set update_grub: false for a directory tree"
echo "steps_config_rootfs: ok"
