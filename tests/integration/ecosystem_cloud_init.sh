#!/bin/bash
# `ccbake render cloud-init`: Debian's cloud-init accepts every rendered user-data (the real
# recipes and a test recipe), the seed ISO reads back with label cidata and both files, no
# reboot is ever rendered, no recipe step runs at boot, and the removed bake-at-boot mode is
# refused with the reason.
source "$(dirname "$0")/lib.sh"
command -v cloud-init >/dev/null || skip "cloud-init is not installed (ci/packages/ecosystem.txt)"
command -v bsdtar >/dev/null || skip "bsdtar is not installed (ci/packages/ecosystem.txt)"
tmp="$(mktemp -d /tmp/ccbake-test.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT

# The real recipes, plus a small test recipe with every kind of step the renderer reads.
cp -r "$CCBAKE_SRC/recipes" "$tmp/recipes"
cat >"$tmp/test-recipe.yaml" <<'EOF'
name: cloud-init-test
base: {os: debian, version: "12", min_kernel: 6.1.0}
artifacts:
  payload: {url: "http://127.0.0.1:9/payload.tar.gz", md5: 0123456789abcdef0123456789abcdef}
steps:
  - kernel_cmdline: {swiotlb: 2GiB, add: [console=ttyS0]}
  - apt_install: {packages: [jq], recommends: false}
  - source_build: {artifact: payload, extract_to: /opt/payload, dir: /opt/payload/QuoteVerificationSample, make: [[clean], [SGX_DEBUG=1]]}
  - systemd:
      ordering: [{unit: bcm-agent.service, after: [nvidia-persistenced.service]}]
  - file: {path: /etc/motd, content: "confidential 'image'\n"}
EOF
recipes=("$tmp/test-recipe.yaml")
for r in "$tmp"/recipes/*.yaml; do
    [ -e "$r" ] || continue
    recipes+=("$r")
done

for r in "${recipes[@]}"; do
    for mode in default check; do
        dir="$tmp/out/$(basename "$r" .yaml)-$mode"
        if [ "$mode" = default ]; then
            capture "$CCBAKE" render cloud-init "$r" -o "$dir"
        else
            capture "$CCBAKE" render cloud-init "$r" -o "$dir" --mode "$mode"
        fi
        assert_rc 0
        capture cloud-init schema --config-file "$dir/user-data"
        assert_rc 0
        assert_contains "$out" "Valid cloud-config" "cloud-init schema for $(basename "$r") $mode"
        assert_eq "$(head -n1 "$dir/user-data")" "#cloud-config" "first line of user-data"
        python3 - "$dir/user-data" <<'EOF' || fail "$r $mode: user-data structure"
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
assert "power_state" not in doc, "power_state would reboot or power off"
cmds = doc["runcmd"]
assert all(isinstance(c, list) for c in cmds), "every runcmd entry is an argv list"
assert not any(a.rsplit("/", 1)[-1] in ("reboot", "poweroff", "shutdown", "halt", "kexec")
               for c in cmds for a in c), "nothing reboots"
wait = [i for i, c in enumerate(cmds) if c[1] == "wait-persistenced"]
check = [i for i, c in enumerate(cmds) if c[1] == "check"]
assert wait and check and wait[0] < check[0], "waits for nvidia-persistenced before the checks"
assert wait[0] == 0, "nothing runs before the wait: no recipe step is applied at boot"
assert [c[1] for c in cmds] == ["wait-persistenced", "check"], "only the wait and the checks"
paths = [f["path"] for f in doc["write_files"]]
assert "/usr/lib/ccbake/ccbake-firstboot" in paths
EOF
        # The seed ISO: label cidata, both files byte-for-byte, names intact (Rock Ridge/Joliet).
        assert_eq "$(blkid -o value -s LABEL "$dir/seed.iso")" "cidata" "seed ISO label"
        assert_eq "$(bsdtar -tf "$dir/seed.iso" | grep -vx '.' | sort | tr '\n' ' ')" "meta-data user-data " "seed ISO files"
        cmp <(bsdtar -xOf "$dir/seed.iso" user-data) "$dir/user-data" || fail "user-data in the ISO differs"
        cmp <(bsdtar -xOf "$dir/seed.iso" meta-data) "$dir/meta-data" || fail "meta-data in the ISO differs"
    done
done

# The recipe's values reach the checks, never a step: the test recipe's swiotlb and make
# arguments appear nowhere in the user-data.
ud="$(cat "$tmp/out/test-recipe-check/user-data")"
assert_not_contains "$ud" "swiotlb="
assert_not_contains "$ud" "SGX_DEBUG=1"
assert_contains "$ud" '"--qvs-dir"'
cmp "$tmp/out/test-recipe-check/user-data" "$tmp/out/test-recipe-default/user-data" ||
    fail "--mode check is not the default"

# The removed mode is refused with the reason, and nothing is written.
capture "$CCBAKE" render cloud-init "$tmp/test-recipe.yaml" -o "$tmp/boot" --mode bake-at-boot
assert_rc 2
assert_contains "$out" "bake-at-boot was removed"
[ ! -e "$tmp/boot/user-data" ] || fail "a refused render left user-data behind"
capture "$CCBAKE" render cloud-init "$tmp/test-recipe.yaml" -o "$tmp/bad" --mode nonsense
assert_rc 2
echo "cloud-init rendering OK (${#recipes[@]} recipes)"
