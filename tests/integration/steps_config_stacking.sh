#!/bin/bash
# Recipes that stack: a site's recipe includes the vendor's part and adds its own steps of the
# same kinds. Every step's effect holds after every later one, read the way the system reads
# it (grub's files sourced in grub's order; the drop-ins systemd-delta says systemd applies),
# and what cannot be stacked is refused by `validate` (exit 2) naming both steps:
#   1. two kernel_cmdline steps (one in the included file): both steps' arguments, swiotlb
#      included; `plan` shows the composed line and which step added each part;
#   2. two systemd steps ordering one unit: both After= entries; a third step's unit check does
#      not fail on the vendor's Before= under [Install] that the first step corrected;
#   3. an ordering cycle split across two steps (refused by validate) and one closed by a unit
#      already in the image (the bake fails, naming it);
#   4. a later kernel_cmdline drop-in that grub would read first (refused by validate);
#   5. a python_venv whose wheelhouse is refused leaves none of the folders it created.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/rootfs_lib.bash"
# The vendor's persistenced unit as its example gives it: Before= under [Install].
cat > "$root/usr/lib/systemd/system/nvidia-persistenced.service" <<'UNIT'
[Unit]
Description=NVIDIA Persistence Daemon (vendor example)
After=syslog.target

[Service]
Type=forking
ExecStart=/bin/true

[Install]
WantedBy=multi-user.target
Before=nvidia-fabricmanager.service
UNIT
for u in bcm-agent site-agent; do
    printf '[Unit]\nDescription=%s\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n' "$u" \
        > "$root/etc/systemd/system/$u.service"
done

cat > "$work/vendor.yaml" <<'YAML'
name: vendor-part
base: {os: debian, version: "12", min_kernel: 6.1.0}
steps:
  - kernel_cmdline: {name: vendor-cmdline, swiotlb: 4GiB, add: [iommu=pt, console=ttyS0], update_grub: false}
  - systemd:
      name: vendor-ordering
      ordering:
        - {unit: nvidia-persistenced.service, before: [nvidia-fabricmanager.service]}
        - {unit: bcm-agent.service, after: [nvidia-persistenced.service]}
YAML
cat > "$work/site.yaml" <<'YAML'
name: site-image
include: [vendor.yaml]
base: {os: debian, version: "12", min_kernel: 6.1.0}
steps:
  - kernel_cmdline: {name: site-cmdline, add: [mitigations=auto, console=tty1], remove: [iommu], update_grub: false}
  - systemd:
      name: site-ordering
      ordering:
        - {unit: bcm-agent.service, after: [network-online.target]}
        - {unit: site-agent.service, after: [nvidia-persistenced.service]}
      enable: [site-agent.service]
  - systemd:
      name: site-jobs
      # Its check loads nvidia-persistenced.service (After=), whose vendor Before= under
      # [Install] the vendor step corrected: not a failure of this step.
      units:
        - name: gpu-job.service
          content: |
            [Unit]
            Description=a site job that uses the GPU
            After=nvidia-persistenced.service

            [Service]
            ExecStart=/bin/true
YAML

# 1. validate and plan: the composed command line, with who added what.
capture "$CCBAKE" validate "$work/site.yaml"
assert_rc 0
capture "$CCBAKE" plan "$work/site.yaml"
assert_rc 0
assert_contains "$out" "composed by 2 kernel_cmdline steps, after the image's own: console=ttyS0 (vendor-cmdline) swiotlb=2097152 (vendor-cmdline) mitigations=auto (site-cmdline) console=tty1 (site-cmdline)"
assert_contains "$out" "composed bcm-agent.service: after nvidia-persistenced.service (vendor-ordering), after network-online.target (site-ordering)"

capture "$CCBAKE" --cache "$work/cache" bake "$work/site.yaml" --rootfs "$root" --log-dir "$work/logs"
assert_rc 0
grub_value() {
    chroot "$root" /bin/sh -c 'set -e; . /etc/default/grub; for f in /etc/default/grub.d/*.cfg; do [ -e "$f" ] && . "$f"; done; printf "%s" "$GRUB_CMDLINE_LINUX_DEFAULT"'
}
cmdline="$(grub_value)"
for want in swiotlb=2097152 console=ttyS0 console=tty1 mitigations=auto; do
    grep -qw -- "$want" <<<"$cmdline" || fail "grub's effective GRUB_CMDLINE_LINUX_DEFAULT lacks $want: $cmdline"
done
! grep -qw -- "iommu=pt" <<<"$cmdline" || fail "the site step removed iommu, but it is still there: $cmdline"
echo "kernel_cmdline: both steps hold: $cmdline"

# 2. systemd: both steps' After= for bcm-agent, in the drop-ins systemd applies.
applied_after() {  # UNIT: After= values from the fragment and every drop-in systemd-delta lists for it
    local files
    files="$(chroot "$root" systemd-delta --no-pager --type=extended 2>/dev/null | sed -n "s|^\[EXTENDED\] *\(.*/$1\) → \(.*\)$|\1 \2|p" | tr ' ' '\n')"
    for f in $files; do sed -n 's/^After=//p' "$root$f"; done | tr ' ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' '
}
after="$(applied_after bcm-agent.service)"
assert_contains "$after" "nvidia-persistenced.service" "bcm-agent's After= as systemd merges it"
assert_contains "$after" "network-online.target" "bcm-agent's After= as systemd merges it"
assert_contains "$(applied_after site-agent.service)" "nvidia-persistenced.service" "site-agent's After="
[ -L "$root/etc/systemd/system/multi-user.target.wants/site-agent.service" ] || fail "site-agent not enabled"
echo "systemd: bcm-agent after $after"

# 3a. A cycle split across two steps is refused before baking.
cat > "$work/cycle.yaml" <<'YAML'
name: cycle
include: [vendor.yaml]
base: {os: debian, version: "12", min_kernel: 6.1.0}
steps:
  - systemd:
      name: site-loop
      ordering:
        - {unit: nvidia-fabricmanager.service, before: [bcm-agent.service]}
        - {unit: bcm-agent.service, before: [nvidia-persistenced.service]}
YAML
capture "$CCBAKE" validate "$work/cycle.yaml"
assert_rc 2
assert_contains "$out" "ordering cycle across systemd steps"
assert_contains "$out" "'site-loop' closes it"
assert_contains "$out" "'vendor-ordering'"
# 3b. A cycle closed by a unit already in the image fails the bake, naming it.
printf '[Unit]\nDescription=image unit\nAfter=site-agent.service\nBefore=bcm-agent.service\n[Service]\nExecStart=/bin/true\n' \
    > "$root/etc/systemd/system/image-unit.service"
cat > "$work/image-cycle.yaml" <<'YAML'
name: image-cycle
base: {os: debian, version: "12", min_kernel: 6.1.0}
steps:
  - systemd:
      name: closes-a-cycle
      ordering:
        - {unit: site-agent.service, after: [bcm-agent.service]}
YAML
capture "$CCBAKE" validate "$work/image-cycle.yaml"
assert_rc 0
capture "$CCBAKE" --cache "$work/cache" bake "$work/image-cycle.yaml" --rootfs "$root" --log-dir "$work/logs-cycle"
assert_rc 1
assert_contains "$out" "systemd would see an ordering cycle in the image"
assert_contains "$out" "image-unit.service"
rm -f "$root/etc/systemd/system/image-unit.service"
echo "cycles: across steps refused by validate; through an image unit refused by the bake"

# 4. A later drop-in that grub would read before the earlier one.
cat > "$work/clash.yaml" <<'YAML'
name: clash
include: [vendor.yaml]
base: {os: debian, version: "12", min_kernel: 6.1.0}
steps:
  - kernel_cmdline: {name: site-early, add: [quiet], dropin: 60-site.cfg, update_grub: false}
YAML
capture "$CCBAKE" validate "$work/clash.yaml"
assert_rc 2
assert_contains "$out" "kernel_cmdline steps 'vendor-cmdline' and 'site-early' clash"
echo "clash: refused by validate"

# 5. A refused wheelhouse: the venv and its new parent folder go again.
python3 - "$work/wheelhouse.tar.gz" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w:gz") as t:  # an entry that climbs out: refused
    data = b"not a wheel\n"
    info = tarfile.TarInfo("../escape.whl"); info.size = len(data)
    t.addfile(info, io.BytesIO(data))
PY
sum="$(md5sum "$work/wheelhouse.tar.gz" | cut -d' ' -f1)"
cat > "$work/venv.yaml" <<YAML
name: venv-cleanup
base: {os: debian, version: "12", min_kernel: 6.1.0}
artifacts:
  wheelhouse: {url: "file://$work/wheelhouse.tar.gz", md5: $sum}
steps:
  - python_venv: {name: venv, venv: /opt/site-tools/venv, wheelhouse: wheelhouse, install: [anything]}
YAML
capture "$CCBAKE" --cache "$work/cache" bake "$work/venv.yaml" --rootfs "$root" --log-dir "$work/logs-venv"
assert_rc 1
[ ! -e "$root/opt/site-tools" ] || fail "a failed python_venv left /opt/site-tools: $(find "$root/opt/site-tools" | head)"
echo "python_venv: a refused wheelhouse leaves nothing it created"
