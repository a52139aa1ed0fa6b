# Helpers for the steps_config_* integration tests (sourced after lib.sh): a Debian 12 root
# on tmpfs, Debian 12 test recipes, and the view of systemd itself on the baked root.
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
    base="$("$CCBAKE_SRC/tests/fixtures/base-rootfs.sh")" || skip "cannot build the Debian 12 base root"
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
        chroot "$r" setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/ \
            /lib/systemd/systemd --test --system --unit=multi-user.target --no-pager' dump "$work/root" 2>&1
}
# The "KEY: OTHER" dependencies systemd records for UNIT in a systemd_dump.
unit_deps() {  # DUMP UNIT KEY
    awk -v u="-> Unit $2:" -v k="$3:" '$0 ~ /^\t-> Unit / { on = (index($0, u) > 0) }
        on && $1 == k { print $2 }' <<<"$1" | sort -u
}
