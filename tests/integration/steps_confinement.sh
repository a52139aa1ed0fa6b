#!/bin/bash
# A root file system that lies: its /etc, /usr/sbin, /run and /etc/resolv.conf are absolute
# symlinks to a folder on the host (as a customer's image may carry). Baking it with --rootfs
# writes only inside the root (the links resolve there, as the chroot sees them): the host
# folder stays byte for byte as it was before the bake, while a step runs, after it, and after
# the bake is killed with -9. A later bake then finds the stash the killed one left
# (policy-rc.d.ccbake-orig, and an older ccbake's resolv.conf.ccbake-orig) and puts the
# image's own files back instead of overwriting them.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/rootfs_lib.bash"

# The host folder the image's links name, with decoys where ccbake would write.
host="$work/host"
mkdir -p "$host/etc" "$host/sbin" "$host/run"
echo "decoy passwd" > "$host/etc/passwd"
echo "nameserver 192.0.2.53 # the decoy resolv.conf" > "$host/resolv.conf"
echo "#!/bin/sh
# decoy policy-rc.d
exit 0" > "$host/sbin/policy-rc.d"
echo "host run" > "$host/run/marker"
snapshot() { (cd "$host" && find . -printf '%p %y %m %s %l\n' | sort && find . -type f -exec sha256sum {} + | sort); }
before="$(snapshot)"

# The image: its real /etc, /usr/sbin and /run moved to where the links land inside it.
inside="$root$host"
mkdir -p "$inside"
mv "$root/etc" "$inside/etc" && ln -s "$host/etc" "$root/etc"
mv "$root/usr/sbin" "$inside/sbin" && ln -s "$host/sbin" "$root/usr/sbin"
rm -rf "$root/run" && mkdir -p "$inside/run" && ln -s "$host/run" "$root/run"
rm -f "$inside/etc/resolv.conf" && ln -s "$host/resolv.conf" "$inside/etc/resolv.conf"
# The image's own policy-rc.d, which the bake must stash and give back.
printf '#!/bin/sh\n# the image'"'"'s own policy-rc.d\nexit 0\n' > "$inside/sbin/policy-rc.d"
chmod 0755 "$inside/sbin/policy-rc.d"
image_policy="$(cat "$inside/sbin/policy-rc.d")"
chroot "$root" /bin/true || fail "the hostile root does not work as a chroot"

cat > "$work/recipe.yaml" <<YAML
name: confinement
base: {os: debian, version: "12", min_kernel: 6.1.0}
steps:
  - file: {name: etc-file, path: /etc/ccbake-confinement, content: "written in the image\n"}
  - systemd:
      name: a-unit
      units:
        - name: confinement-test.service
          content: |
            [Unit]
            Description=confinement test
            [Service]
            ExecStart=/bin/true
            [Install]
            WantedBy=multi-user.target
      enable: [confinement-test.service]
  - run:
      name: wait-while-the-test-looks
      network: true
      argv: [/bin/sh, -c, "cat /etc/resolv.conf > /root/resolv-seen; touch /root/step-running; i=0; while [ ! -e /root/go-on ] && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i+1)); done"]
YAML

# 1. A bake, with the host folder checked while its step runs.
"$CCBAKE" --cache "$work/cache" bake "$work/recipe.yaml" --rootfs "$root" --log-dir "$work/logs1" >"$work/bake1.log" 2>&1 &
pid=$!
for _ in $(seq 600); do [ -e "$root/root/step-running" ] && break; sleep 0.1; done
[ -e "$root/root/step-running" ] || { cat "$work/bake1.log"; fail "the step never ran"; }
during="$(snapshot)"
assert_eq "$(cat "$inside/sbin/policy-rc.d")" "$(printf '#!/bin/sh\n# Written by ccbake while baking: no service starts in the image.\nexit 101')" \
    "policy-rc.d inside the image while a step runs"
touch "$root/root/go-on"
wait "$pid" || { cat "$work/bake1.log"; fail "the bake failed"; }
after="$(snapshot)"
[ "$during" == "$before" ] || fail "the host folder changed while a step ran:"$'\n'"$(diff <(echo "$before") <(echo "$during"))"
[ "$after" == "$before" ] || fail "the host folder changed after the bake:"$'\n'"$(diff <(echo "$before") <(echo "$after"))"
assert_eq "$(cat "$inside/etc/ccbake-confinement")" "written in the image" "file step, inside the image"
[ -L "$inside/etc/systemd/system/multi-user.target.wants/confinement-test.service" ] || fail "unit not enabled inside the image"
[ -s "$inside/usr/share/ccbake/manifest.json" ] || [ -s "$root/usr/share/ccbake/manifest.json" ] || fail "no manifest in the image"
[ -s "$root/var/lib/ccbake/journal.json" ] || fail "no journal in the image"
grep -qv "decoy" "$root/root/resolv-seen" || fail "the step saw the decoy resolv.conf: $(cat "$root/root/resolv-seen")"
assert_eq "$(readlink "$inside/etc/resolv.conf")" "$host/resolv.conf" "the image's resolv.conf link"
[ ! -e "$inside/resolv.conf" ] || fail "the placeholder under the link's target was left: $(cat "$inside/resolv.conf")"
assert_eq "$(cat "$inside/sbin/policy-rc.d")" "$image_policy" "the image's policy-rc.d after the bake"
ls "$inside/sbin" "$inside/etc" | grep -q ccbake-orig && fail "a stash was left: $(ls "$inside/sbin" "$inside/etc" | grep ccbake-orig)"
echo "bake: host folder unchanged before, during and after; the image's files are back"

# 2. kill -9 while a step runs: the host folder is still untouched.
rm -f "$root/root/step-running" "$root/root/go-on"
sed -i 's/-lt 600/-lt 601/' "$work/recipe.yaml"  # a changed step: applied again
"$CCBAKE" --cache "$work/cache" bake "$work/recipe.yaml" --rootfs "$root" --log-dir "$work/logs2" >"$work/bake2.log" 2>&1 &
pid=$!
for _ in $(seq 600); do [ -e "$root/root/step-running" ] && break; sleep 0.1; done
[ -e "$root/root/step-running" ] || { cat "$work/bake2.log"; fail "the second bake's step never ran"; }
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
for _ in $(seq 50); do pgrep -f "lt 601" >/dev/null || break; sleep 0.1; done
[ "$(snapshot)" == "$before" ] || fail "the host folder changed after kill -9:"$'\n'"$(diff <(echo "$before") <(snapshot))"
[ -e "$inside/sbin/policy-rc.d.ccbake-orig" ] || fail "kill -9 left no stash (this test expects one to recover from)"
echo "kill -9: host folder unchanged; the stash is left in the image"

# 3. A stale stash from the killed bake, and one an older ccbake left for resolv.conf (the
#    host's file in place of the image's link): the next bake gives the image its own back.
mv "$inside/etc/resolv.conf" "$inside/etc/resolv.conf.ccbake-orig"
echo "nameserver 203.0.113.1 # the build host's, copied in by a crashed bake" > "$inside/etc/resolv.conf"
touch "$root/root/go-on"
sed -i 's/-lt 601/-lt 602/' "$work/recipe.yaml"
capture "$CCBAKE" --cache "$work/cache" bake "$work/recipe.yaml" --rootfs "$root" --log-dir "$work/logs3"
assert_rc 0
assert_eq "$(cat "$inside/sbin/policy-rc.d")" "$image_policy" "the image's policy-rc.d after recovering"
assert_eq "$(readlink "$inside/etc/resolv.conf")" "$host/resolv.conf" "the image's resolv.conf link after recovering"
ls "$inside/sbin" "$inside/etc" | grep -q ccbake-orig && fail "a stash was left after recovering"
[ "$(snapshot)" == "$before" ] || fail "the host folder changed in the recovering bake"
echo "stale stash: recognised; the image's own policy-rc.d and resolv.conf are back"
