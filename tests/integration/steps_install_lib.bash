# Helpers for the steps_install_* integration tests (sourced after lib.sh; not a test itself:
# run.sh runs only *.sh): a Debian 12 root on tmpfs, the stand-in vendor artifacts, and recipes
# whose artifacts are file:// URLs.
for tool in makeself dpkg-deb dpkg-scanpackages gcc; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (ci/packages/steps-install.txt)"
done
[ "$(id -u)" -eq 0 ] || skip "needs root (chroot, mounts)"
# Run in a private mount namespace, so the tmpfs below never outlives the test.
if [ -z "${CCBAKE_STEPS_INSTALL_NS:-}" ]; then
    export CCBAKE_STEPS_INSTALL_NS=1
    rm -rf "$CCBAKE_TEST_TMP"  # exec drops lib.sh's EXIT trap; the new run makes its own
    exec unshare --mount --propagation private bash "$0" "$@"
fi

# A scratch folder with a tmpfs for the root (creating files on / is slow here).
work="$(mktemp -d /var/tmp/ccbake-steps-install.XXXXXX)"
cleanup() {
    umount -l "$work/root" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/root" "$work/standins" "$work/cache" "$work/logs"

# Fresh copy of the cached base root (tarball or folder) in $work/root.
fresh_root() {
    umount -l "$work/root" 2>/dev/null || true
    mount -t tmpfs -o size=4g,mode=0755 ccbake-test "$work/root"
    local base
    base="$("$CCBAKE_SRC/tests/fixtures/base-rootfs.sh")" || fail "cannot build the Debian 12 base root (tests/fixtures/base-rootfs.sh)"
    if [ -d "$base" ]; then cp -a "$base/." "$work/root/"; else tar -xpf "$base" --numeric-owner -C "$work/root"; fi
    kernel="$(ls "$work/root/lib/modules" | sort -V | tail -n1)"
}

"$CCBAKE_SRC/tests/fixtures/standins/make-standins.sh" "$work/standins" >/dev/null

# artifacts: block for the named stand-ins, as file:// URLs with their md5s.
artifacts_yaml() {
    python3 - "$work/standins" "$@" <<'PY'
import json, sys
d = sys.argv[1]
index = json.load(open(f"{d}/artifacts.json"))
print("artifacts:")
for name in sys.argv[2:]:
    a = index[name]
    print(f"  {name}:\n    url: file://{d}/{a['file']}\n    md5: {a['md5']}")
PY
}

# Writes $work/NAME.yaml: a Debian 12 test recipe with the given stand-in artifacts (plus the
# YAML lines in $extra_artifacts) and the steps on stdin.
recipe() {  # NAME ARTIFACT...
    local name="$1"; shift
    {
        echo "name: $name"
        echo "description: steps_install integration test (stand-in vendor artifacts)"
        echo "base: {os: debian, version: \"12\", min_kernel: 6.1.0}"
        [ $# -gt 0 ] && artifacts_yaml "$@"
        [ -n "${extra_artifacts:-}" ] && echo "$extra_artifacts"
        echo "steps:"
        cat
    } > "$work/$name.yaml"
}

bake() {  # RECIPE-NAME: fetches, then bakes into $work/root; output in $out, status in $rc
    capture timeout 120 "$CCBAKE" --cache "$work/cache" fetch "$work/$1.yaml"
    assert_rc 0
    capture timeout 600 "$CCBAKE" --cache "$work/cache" bake "$work/$1.yaml" --rootfs "$work/root" \
        --log-dir "$work/logs/$1" --offline
}
in_root() { chroot "$work/root" "$@"; }
pkg_version() { in_root dpkg-query -W -f '${Status} ${Version}' "$1" 2>/dev/null | sed -n 's/^install ok installed //p'; }
