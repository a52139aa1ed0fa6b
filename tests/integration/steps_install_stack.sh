#!/bin/bash
# The vendor stack installed into a real Debian 12 root with real dpkg/apt/make, from the
# stand-in artifacts: what lands, and that a second apply changes nothing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/steps_install_lib.bash"
fresh_root
# Keep the initramfs rebuild the driver step triggers small: this test checks that it happens.
sed -i 's/^MODULES=.*/MODULES=list/' "$work/root/etc/initramfs-tools/initramfs.conf"

# A .deb whose dependency dpkg cannot satisfy alone: apt-get -f install takes it from the local repo.
mkdir -p "$work/needs-urts/DEBIAN"
printf '%s\n' "Package: ccbake-test-needs-urts" "Version: 1.0-1" "Architecture: all" "Depends: libsgx-urts" \
    "Maintainer: ccbake tests <tests@ccbake.invalid>" "Description: stand-in that depends on libsgx-urts (ccbake test)" \
    > "$work/needs-urts/DEBIAN/control"
dpkg-deb --root-owner-group -b "$work/needs-urts" "$work/needs-urts.deb" >/dev/null
extra_artifacts="$(printf '  needs_urts_deb: {url: "file://%s", md5: %s}' "$work/needs-urts.deb" \
    "$(md5sum "$work/needs-urts.deb" | cut -d' ' -f1)")"

recipe stack nvidia_driver_run fabricmanager_deb nscq_deb sgx_local_repo sgx_sdk_bin dcap_source nvtrust_source nvtrust_wheelhouse <<'YAML'
  - kernel: {name: kernel, package: linux-image-amd64, headers_package: linux-headers-amd64}
  - apt_repo:
      name: sgx-repo
      artifact: sgx_local_repo
      dest: /srv/sgx_debian_local_repo
      list: sgx_debian_local_repo
      options: [trusted=yes, arch=amd64]
  - apt_install:
      name: attest
      hermetic: true
      packages: [libtdx-attest, libtdx-attest-dev, libsgx-dcap-quote-verify, libsgx-dcap-quote-verify-dev]
  - deb_install:
      name: needs-urts
      debs: [{artifact: needs_urts_deb, package: ccbake-test-needs-urts, version: 1.0-1}]
  - apt_install:
      name: attest-no-recommends
      hermetic: true
      recommends: false
      packages: [libsgx-dcap-default-qpl, libsgx-urts]
  - deb_install:
      name: nvswitch
      debs:
        - {artifact: fabricmanager_deb, package: nvidia-fabricmanager-570, version: 570.195.03-1}
        - {artifact: nscq_deb, package: libnvidia-nscq-570, version: 570.195.03-1}
  - nvidia_driver: {name: driver, artifact: nvidia_driver_run, version: 570.195.03}
  - source_build:
      name: tdx-sample
      dir: /opt/intel/tdx-quote-generation-sample
      creates: /opt/intel/tdx-quote-generation-sample/test_tdx_attest
  - vendor_installer:
      name: sdk
      artifact: sgx_sdk_bin
      answers: ["no", /opt/intel/]
      creates: /opt/intel/sgxsdk/environment
  - source_build:
      name: dcap-sample
      artifact: dcap_source
      extract_to: /opt/intel/dcap
      dir: /opt/intel/dcap/confidential-computing.tee.dcap-DCAP_1.21/SampleCode/QuoteVerificationSample
      make: [[clean], [SGX_DEBUG=1]]
      env_file: /opt/intel/sgxsdk/environment
      creates: /opt/intel/dcap/confidential-computing.tee.dcap-DCAP_1.21/SampleCode/QuoteVerificationSample/enclave.signed.so
  - python_venv:
      name: ppcie
      artifact: nvtrust_source
      extract_to: /opt/nvtrust/src
      venv: /opt/nvtrust/venv
      install:
        - ./nvtrust-2025.7.17.001/guest_tools/gpu_verifiers/local_gpu_verifier
        - ./nvtrust-2025.7.17.001/guest_tools/attestation_sdk
        - ./nvtrust-2025.7.17.001/guest_tools/ppcie-verifier
      wheelhouse: nvtrust_wheelhouse
YAML
# The host's loaded modules, before and after (a kernel without module support has none).
host_modules() { if [ -r /proc/modules ]; then cut -d" " -f1 /proc/modules | sort; else echo "(no /proc/modules)"; fi; }
modules_before="$(host_modules)"
bake stack
modules_after="$(host_modules)"
assert_rc 0
echo "$out"

# apt repo and hermetic installs, with and without recommends
assert_eq "$(grep -v '^#' "$work/root/etc/apt/sources.list.d/sgx_debian_local_repo.list")" \
    "deb [trusted=yes arch=amd64] file:/srv/sgx_debian_local_repo jammy main" "apt source line"
[ -f "$work/root/srv/sgx_debian_local_repo/dists/jammy/main/binary-amd64/Packages" ] || fail "repo not extracted"
assert_eq "$(pkg_version libtdx-attest-dev)" "1.21.100.3-jammy1" "libtdx-attest-dev"
assert_eq "$(pkg_version libsgx-ae-qve)" "1.21.100.3-jammy1" "libsgx-ae-qve (a recommends)"
assert_eq "$(pkg_version libsgx-dcap-default-qpl)" "1.21.100.3-jammy1" "libsgx-dcap-default-qpl"
assert_eq "$(pkg_version sgx-ra-service)" "" "sgx-ra-service (recommends off)"
# the real graph: the -dev packages pull libsgx-headers, libsgx-urts pulls libsgx-enclave-common
assert_eq "$(pkg_version libsgx-headers)" "2.24.100.3-jammy1" "libsgx-headers (a dependency of libsgx-dcap-quote-verify-dev)"
assert_eq "$(pkg_version libsgx-enclave-common)" "2.24.100.3-jammy1" "libsgx-enclave-common (a dependency of libsgx-urts)"
assert_eq "$(in_root dpkg-query -W -f '${Conffiles}' nvidia-fabricmanager-570 | awk '{print $1}')" \
    "/usr/share/nvidia/nvswitch/fabricmanager.cfg" "fabric manager's conffile"
grep -q '"pccs_url": "https://localhost:8081/sgx/certification/v4/"' "$work/root/etc/sgx_default_qcnl.conf" ||
    fail "qcnl config not installed"
# local debs; a missing dependency resolved by apt-get -f install
assert_eq "$(pkg_version ccbake-test-needs-urts)" "1.0-1" "test .deb"
assert_eq "$(pkg_version libsgx-urts)" "2.24.100.3-jammy1" "dependency of the test .deb"
assert_eq "$(pkg_version nvidia-fabricmanager-570)" "570.195.03-1" "fabric manager"
assert_eq "$(pkg_version libnvidia-nscq-570)" "570.195.03-1" "nscq"
[ -f "$work/root/lib/systemd/system/nvidia-fabricmanager.service" ] || fail "fabric manager unit missing"
# driver: flags recorded by the stand-in installer, for the image's kernel
flags="$(cat "$work/root/var/log/nvidia-installer-standin.flags")"
assert_contains "$flags" "--kernel-module-type=open" "installer flags"
assert_contains "$flags" "--skip-module-load" "installer flags"
assert_contains "$flags" "--no-nouveau-check" "installer flags"
[ "$modules_after" == "$modules_before" ] || fail "the host's loaded modules changed during the bake"
assert_contains "$flags" "--kernel-name=$kernel" "installer flags"
assert_contains "$flags" "--silent" "installer flags"
assert_contains "$flags" "--dkms" "installer flags"
[ -x "$work/root/usr/bin/nvidia-persistenced" ] && [ -x "$work/root/usr/bin/nvidia-smi" ] || fail "driver files missing"
[ -f "$work/root/usr/share/doc/NVIDIA_GLX-1.0/samples/nvidia-persistenced-init.tar.bz2" ] || fail "persistenced sample missing"
# The modules: built by kbuild for the image's kernel and installed through the image's dkms.
kernel="$(ls "$work/root/lib/modules" | sort -V | tail -n1)"
assert_contains "$(in_root dkms status -m nvidia)" "nvidia/570.195.03, $kernel, x86_64: installed" "dkms status"
for m in nvidia nvidia-uvm nvidia-modeset nvidia-drm nvidia-peermem; do
    assert_contains "$(in_root modinfo -F vermagic "/lib/modules/$kernel/updates/dkms/$m.ko")" "$kernel " "vermagic of $m"
done
assert_contains "$(in_root modinfo -F description -k "$kernel" nvidia)" "NVIDIA open kernel module 570.195.03" "the open modules"
assert_eq "$(cat "$work/root/etc/modprobe.d/nvidia-lkca.conf" | grep -v '^#')" "softdep nvidia pre: ecdsa_generic ecdh" "LKCA"
grep -qx "blacklist nouveau" "$work/root/etc/modprobe.d/nvidia-blacklist-nouveau.conf" || fail "nouveau not blacklisted"
in_root lsinitramfs "/boot/initrd.img-$kernel" >/dev/null || fail "initramfs of $kernel unreadable"
[ "$work/root/boot/initrd.img-$kernel" -nt "$work/root/var/log/nvidia-installer-standin.flags" ] ||
    fail "initramfs not rebuilt after the driver"
# builds, SDK and venv
[ -x "$work/root/opt/intel/tdx-quote-generation-sample/test_tdx_attest" ] || fail "test_tdx_attest not built"
[ -f "$work/root/opt/intel/sgxsdk/environment" ] || fail "SDK not installed"
app="$(in_root sh -c 'cd /opt/intel/dcap/confidential-computing.tee.dcap-DCAP_1.21/SampleCode/QuoteVerificationSample && ./app')"
assert_contains "$app" "SGX_SDK_STANDIN=1" "QuoteVerificationSample app"
assert_contains "$(in_root /opt/nvtrust/venv/bin/python -m ppcie.verifier.verification --gpu-attestation-mode=REMOTE --switch-attestation-mode=REMOTE)" \
    "PPCIE: STAND-IN" "ppcie verifier"
# kernel step
grep -q 'Automatic-Reboot "false"' "$work/root/etc/apt/apt.conf.d/99-ccbake-no-reboot" || fail "reboot not blocked"
# nothing staged is left behind
[ -z "$(ls "$work/root/var/tmp" | grep ccbake-stage || true)" ] || fail "staging left in /var/tmp"

# Idempotency: without the journal every step runs again and changes nothing.
rm -f "$work/root/var/lib/ccbake/journal.json"
bake stack
assert_rc 0
echo "$out"
changed="$(grep -c 'applied' <<<"$out" || true)"
[ "$changed" -eq 0 ] || fail "second apply changed something:"$'\n'"$out"
assert_contains "$out" "nothing to change"

# A dkms that fails: the installer warns and installs the modules without DKMS (as the real
# one does), and the step, asked for dkms, fails instead of passing on modules dkms will not
# rebuild for the next kernel.
rm -rf "$work/root/var/lib/dkms/nvidia" "$work/root/usr/src/nvidia-570.195.03"
rm -f "$work/root/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.570.195.03"
mv "$work/root/usr/sbin/dkms" "$work/root/usr/sbin/dkms.real"
printf '#!/bin/sh\necho "Error! dkms (test stand-in) fails: $*" >&2\nexit 1\n' > "$work/root/usr/sbin/dkms"
chmod 0755 "$work/root/usr/sbin/dkms"
recipe dkms-broken nvidia_driver_run <<'YAML'
  - nvidia_driver: {name: driver, artifact: nvidia_driver_run, version: 570.195.03}
YAML
bake dkms-broken
mv "$work/root/usr/sbin/dkms.real" "$work/root/usr/sbin/dkms"
assert_rc 1
assert_contains "$out" "the NVIDIA installer did not register its modules with DKMS for kernel $kernel"
echo "a failing dkms fails the step: $(grep -m1 'did not register' <<<"$out")"
echo "ok"
