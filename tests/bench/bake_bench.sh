#!/bin/bash
# Benchmark of `ccbake bake --image` against the floor: a hand-written losetup + mount +
# chroot script doing the same small recipe on a sparse copy of the same disk. The recipe:
# put a 50 MB tarball into the image and extract it under /srv, write an apt list, a kernel
# command line drop-in then update-grub, and two systemd drop-ins. Also times a no-op re-bake
# (every step already applied), a bake whose steps all come from the layer cache, a qcow2
# output, and the same recipe through virt-customize once (libguestfs-tools, installed from
# Debian when missing; its appliance runs under TCG where there is no KVM). Prints medians of N runs
# and the ratios. Usage: tests/bench/bake_bench.sh [RUNS]   (root; CCBAKE=path/to/ccbake)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
: "${CCBAKE:=$root/build/ccbake}"
runs="${1:-3}"
base="$(bash "$root/tests/fixtures/base-image.sh")"
work="$(mktemp -d /var/tmp/ccbake-bench.XXXXXX)"
made_modules=
trap 'rm -rf "$work"; [ -z "$made_modules" ] || rmdir /lib/modules' EXIT
for tool in virt-customize bc; do
    command -v "$tool" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends libguestfs-tools bc >/dev/null
done
# libguestfs boots a small appliance with a kernel of the host's; a build host without one
# (a container) lends it the Debian test root's kernel. supermin also expects /lib/modules.
export LIBGUESTFS_BACKEND=direct
# TCG unless told otherwise, as the boot tests do: a /dev/kvm that is there is not always usable
# (libguestfs's appliance then hangs while it examines the guest).
[ "${CCBAKE_TEST_ACCEL:-tcg}" = kvm ] || export LIBGUESTFS_BACKEND_SETTINGS=force_tcg
if ! ls /boot/vmlinuz-* >/dev/null 2>&1; then
    troot="$(bash "$root/tests/fixtures/base-rootfs.sh")"
    [ -d "$troot" ] || { mkdir -p "$work/troot" && tar -C "$work/troot" -xf "$troot" ./boot ./usr/lib/modules && troot="$work/troot"; }
    kver="$(ls "$troot/boot" | sed -n 's/^vmlinuz-//p' | sort -V | tail -n1)"
    export SUPERMIN_KERNEL="$troot/boot/vmlinuz-$kver" SUPERMIN_MODULES="$troot/usr/lib/modules/$kver"
    [ -d /lib/modules ] || { mkdir /lib/modules && made_modules=1; }
fi

# The payload: 50 MB that does not compress to nothing.
mkdir -p "$work/payload/data"
head -c 25M /dev/urandom > "$work/payload/data/random.bin"
head -c 25M /dev/zero > "$work/payload/data/zeros.bin"
tar -C "$work/payload" -cf "$work/payload.tar" data
md5="$(md5sum "$work/payload.tar" | cut -d' ' -f1)"

cat > "$work/recipe.yaml" <<YAML
name: bench
base: {os: debian, version: "12", min_kernel: 6.1.0}
artifacts:
  payload: {url: "file://$work/payload.tar", md5: $md5}
steps:
  - file: {name: upload, path: /srv/payload.tar, artifact: payload}
  - run: {name: extract, argv: [tar, -xf, /srv/payload.tar, -C, /srv], creates: /srv/data}
  - file: {name: apt-list, path: /etc/apt/sources.list.d/bench.list, content: "deb [trusted=yes] file:/srv/repo ./\n"}
  - file: {name: cmdline, path: /etc/default/grub.d/99-ccbake.cfg, content: "GRUB_CMDLINE_LINUX_DEFAULT=\"\$GRUB_CMDLINE_LINUX_DEFAULT swiotlb=2097152\"\n"}
  - run: {name: update-grub, argv: [update-grub]}
  - file: {name: dropin-1, path: /etc/systemd/system/nvidia-fabricmanager.service.d/10-order.conf, content: "[Unit]\nAfter=nvidia-persistenced.service\n"}
  - file: {name: dropin-2, path: /etc/systemd/system/bcm-agent.service.d/10-order.conf, content: "[Unit]\nAfter=nvidia-persistenced.service\n"}
YAML

# The floor: what a careful shell script does, with no checks, journal or manifest.
cat > "$work/floor.sh" <<'SH'
#!/bin/bash
set -euo pipefail
in="$1" out="$2" tarball="$3"
cp --sparse=always "$in" "$out"
off() { echo $(( $(partx -g -o START -n "$1" "$out") * 512 )); }
size() { echo $(( $(partx -g -o SECTORS -n "$1" "$out") * 512 )); }
unshare --mount --propagation private bash -euo pipefail -s "$out" "$tarball" "$(off 2)" "$(size 2)" <<'IN'
out="$1" tarball="$2" off="$3" size="$4"
loop="$(losetup -f --show -o "$off" --sizelimit "$size" "$out")"
mnt="$(mktemp -d)"
mount "$loop" "$mnt"
mkdir -p "$mnt/srv" && cp "$tarball" "$mnt/srv/payload.tar" && tar -xf "$mnt/srv/payload.tar" -C "$mnt/srv"
echo "deb [trusted=yes] file:/srv/repo ./" > "$mnt/etc/apt/sources.list.d/bench.list"
mkdir -p "$mnt/etc/default/grub.d"
echo 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT swiotlb=2097152"' > "$mnt/etc/default/grub.d/99-ccbake.cfg"
for u in nvidia-fabricmanager bcm-agent; do
    mkdir -p "$mnt/etc/systemd/system/$u.service.d"
    printf '[Unit]\nAfter=nvidia-persistenced.service\n' > "$mnt/etc/systemd/system/$u.service.d/10-order.conf"
done
mount -t proc proc "$mnt/proc"; mount -t sysfs sys "$mnt/sys"; mount --bind /dev "$mnt/dev"
chroot "$mnt" update-grub >/dev/null 2>&1
umount "$mnt/dev" "$mnt/sys" "$mnt/proc" "$mnt"
losetup -d "$loop"
IN
SH

# The same recipe through virt-customize, on a sparse copy (it edits the image in place).
virt_customize() {  # IN OUT TARBALL
    cp --sparse=always "$1" "$2"
    virt-customize -a "$2" --no-network \
        --mkdir /srv --upload "$3:/srv/payload.tar" --run-command 'tar -xf /srv/payload.tar -C /srv' \
        --write '/etc/apt/sources.list.d/bench.list:deb [trusted=yes] file:/srv/repo ./' \
        --mkdir /etc/default/grub.d \
        --write '/etc/default/grub.d/99-ccbake.cfg:GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT swiotlb=2097152"' \
        --run-command update-grub \
        --mkdir /etc/systemd/system/nvidia-fabricmanager.service.d \
        --write '/etc/systemd/system/nvidia-fabricmanager.service.d/10-order.conf:[Unit]
After=nvidia-persistenced.service' \
        --mkdir /etc/systemd/system/bcm-agent.service.d \
        --write '/etc/systemd/system/bcm-agent.service.d/10-order.conf:[Unit]
After=nvidia-persistenced.service'
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
timeit() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }

"$CCBAKE" --cache "$work/cache" fetch "$work/recipe.yaml" >/dev/null 2>&1 || true
# Warm the digest cache and the page cache once, as a user's second bake would find them.
"$CCBAKE" --cache "$work/cache" bake "$work/recipe.yaml" --image "$base" --output "$work/warm.raw" >/dev/null
declare -A t
# virt-customize once (under TCG one run takes minutes); its first run also builds the
# appliance libguestfs keeps, so it runs twice and the second is timed.
virt_customize "$base" "$work/o.virt.raw" "$work/payload.tar" >"$work/virt.log" 2>&1 ||
    { echo "virt-customize failed:"; tail -n 20 "$work/virt.log"; exit 1; }
t[virt]="$(timeit virt_customize "$base" "$work/o.virt.raw" "$work/payload.tar")"$'\n'
for i in $(seq 1 "$runs"); do
    rm -f "$work"/o.*
    t[floor]+="$(timeit bash "$work/floor.sh" "$base" "$work/o.floor.raw" "$work/payload.tar")"$'\n'
    t[ccbake]+="$(timeit "$CCBAKE" --cache "$work/cache" bake "$work/recipe.yaml" --image "$base" --output "$work/o.raw" --no-layer-cache)"$'\n'
    t[layers]+="$(timeit "$CCBAKE" --cache "$work/cache" bake "$work/recipe.yaml" --image "$base" --output "$work/o.layers.raw")"$'\n'
    t[noop]+="$(timeit "$CCBAKE" --cache "$work/cache" bake "$work/recipe.yaml" --image "$work/warm.raw" --output "$work/o.noop.raw")"$'\n'
    t[qcow2]+="$(timeit "$CCBAKE" --cache "$work/cache" bake "$work/recipe.yaml" --image "$base" --output "$work/o.qcow2" --no-layer-cache)"$'\n'
done
floor="$(printf '%s' "${t[floor]}" | median)"
echo "runs: $runs, image: $(basename "$base") ($(du -h --apparent-size "$base" | cut -f1) virtual, $(du -h "$base" | cut -f1) allocated)"
for k in floor ccbake layers noop qcow2 virt; do
    m="$(printf '%s' "${t[$k]}" | median)"
    printf '%-8s median %6.2f s   %5.2fx floor\n' "$k" "$m" "$(echo "$m / $floor" | bc -l)"
done
