#!/bin/bash
# Failures of the installing step kinds in a real Debian 12 root: each is exit 1 with a
# one-line message that says what failed, and leaves the image as the step found it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/steps_install_lib.bash"
fresh_root
R="$work/root"
mkdir -p "$R/lib/modules/$kernel/build"

echo "--- the NVIDIA installer exits non-zero: its own log is in the error"
recipe bad-flag nvidia_driver_run <<'YAML'
  - nvidia_driver: {name: driver, artifact: nvidia_driver_run, version: 570.195.03, extra_args: [--bogus-option]}
YAML
bake bad-flag
assert_rc 1
sed -n "/error:/,\$p" <<<"$out" | head -n 12
assert_contains "$out" "the NVIDIA installer failed for kernel $kernel"
assert_contains "$out" 'nvidia-installer: unrecognized option: "--bogus-option"'
assert_contains "$out" "Invalid commandline, please run"
[ ! -e "$R/etc/modprobe.d/nvidia-lkca.conf" ] && [ ! -e "$R/usr/bin/nvidia-smi" ] || fail "failed install left files"

echo "--- the target kernel's headers are missing"
rmdir "$R/lib/modules/$kernel/build"
recipe no-headers nvidia_driver_run <<'YAML'
  - nvidia_driver: {name: driver, artifact: nvidia_driver_run, version: 570.195.03}
YAML
bake no-headers
assert_rc 1
sed -n "/error:/,\$p" <<<"$out" | head -n 12
assert_contains "$out" "the headers of kernel $kernel are not in the image (/lib/modules/$kernel/build is missing)"
assert_contains "$out" "install linux-headers-$kernel first"
[ ! -e "$R/var/log/nvidia-installer-standin.flags" ] || fail "installer ran without headers"

echo "--- hostile repository archives are refused, nothing written outside"
python3 - "$work/hostile" <<'PY'
import io, sys, tarfile, os
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
def make(name, entries):
    with tarfile.open(f"{out}/{name}.tgz", "w:gz") as t:
        for kind, path, extra in entries:
            i = tarfile.TarInfo(path)
            if kind == "dir": i.type = tarfile.DIRTYPE; t.addfile(i)
            elif kind == "sym": i.type = tarfile.SYMTYPE; i.linkname = extra; t.addfile(i)
            elif kind == "chr": i.type = tarfile.CHRTYPE; i.devmajor, i.devminor = 1, 3; t.addfile(i)
            elif kind == "hard": i.type = tarfile.LNKTYPE; i.linkname = extra; t.addfile(i)
            else:
                data = b"hostile stand-in\n"; i.size = len(data); t.addfile(i, io.BytesIO(data))
top = ("dir", "sgx_debian_local_repo/", None)
make("dotdot", [top, ("file", "sgx_debian_local_repo/../../evil-dotdot", None)])
make("absolute", [top, ("file", "/etc/evil-absolute", None)])
make("symlink", [top, ("sym", "sgx_debian_local_repo/etc", "/etc"), ("file", "sgx_debian_local_repo/etc/evil-symlink", None)])
make("device", [top, ("chr", "sgx_debian_local_repo/null", None)])
make("hardlink", [top, ("hard", "sgx_debian_local_repo/passwd", "/etc/passwd")])
PY
for kind in dotdot absolute symlink device hardlink; do
    md5="$(md5sum "$work/hostile/$kind.tgz" | cut -d' ' -f1)"
    cat > "$work/hostile-$kind.yaml" <<YAML
name: hostile-$kind
base: {os: debian, version: "12", min_kernel: 6.1.0}
artifacts:
  repo: {url: "file://$work/hostile/$kind.tgz", md5: $md5}
steps:
  - apt_repo: {name: repo, artifact: repo, dest: /srv/site/hostile, list: hostile, options: [trusted=yes]}
YAML
    bake "hostile-$kind"
    assert_rc 1
sed -n "/error:/,\$p" <<<"$out" | head -n 12
    assert_contains "$out" "refused entry" "hostile $kind"
    assert_contains "$out" "of artifact repo" "hostile $kind"
    [ ! -e "$R/srv/site" ] && [ -z "$(ls -A "$R/srv")" ] || fail "hostile $kind: something was written in /srv (the new parent /srv/site included)"
    [ ! -e "$R/evil-dotdot" ] && [ ! -e "$work/evil-dotdot" ] && [ ! -e "$R/etc/evil-absolute" ] &&
        [ ! -e /etc/evil-absolute ] && [ ! -e "$R/etc/evil-symlink" ] && [ ! -e /etc/evil-symlink ] ||
        fail "hostile $kind: a file landed outside the destination"
    [ ! -e "$R/etc/apt/sources.list.d/hostile.list" ] || fail "hostile $kind: source list written"
done
assert_contains "$(bake hostile-device; echo "$out")" "device node"
assert_contains "$(bake hostile-hardlink; echo "$out")" "refused entry 'sgx_debian_local_repo/passwd' of artifact repo: absolute hard link target '/etc/passwd'"
[ "$(stat -c %h "$R/etc/passwd")" -eq 1 ] || fail "a hard link to the image's /etc/passwd was made"

echo "--- a .deb of the wrong version"
mkdir -p "$work/olddeb/DEBIAN"
printf '%s\n' "Package: nvidia-fabricmanager-570" "Version: 570.195.02-1" "Architecture: amd64" \
    "Maintainer: ccbake tests <tests@ccbake.invalid>" "Description: stand-in of the wrong version (ccbake test)" \
    > "$work/olddeb/DEBIAN/control"
dpkg-deb --root-owner-group -b "$work/olddeb" "$work/fm-old.deb" >/dev/null
cat > "$work/wrong-deb.yaml" <<YAML
name: wrong-deb
base: {os: debian, version: "12", min_kernel: 6.1.0}
artifacts:
  fabricmanager_deb: {url: "file://$work/fm-old.deb", md5: $(md5sum "$work/fm-old.deb" | cut -d' ' -f1)}
steps:
  - deb_install:
      name: nvswitch
      debs: [{artifact: fabricmanager_deb, package: nvidia-fabricmanager-570, version: 570.195.03-1}]
YAML
bake wrong-deb
assert_rc 1
sed -n "/error:/,\$p" <<<"$out" | head -n 12
assert_contains "$out" "fabricmanager_deb holds nvidia-fabricmanager-570 570.195.02-1, but the recipe expects nvidia-fabricmanager-570 570.195.03-1"
assert_eq "$(pkg_version nvidia-fabricmanager-570)" "" "wrong .deb installed"

echo "--- an unknown package (local repository only)"
recipe unknown-pkg sgx_local_repo <<'YAML'
  - apt_repo: {name: repo, artifact: sgx_local_repo, dest: /srv/sgx_debian_local_repo, list: sgx, options: [trusted=yes]}
  - apt_install: {name: attest, hermetic: true, packages: [libtdx-attest, libtdx-atest-dev]}
YAML
bake unknown-pkg
assert_rc 1
sed -n "/error:/,\$p" <<<"$out" | head -n 12
assert_contains "$out" "apt knows no package 'libtdx-atest-dev'"
assert_eq "$(pkg_version libtdx-attest)" "" "partial apt install"

# (validate refuses the vendor's \`make DEBUG=1\`, which is such a build: the Makefile reads SGX_DEBUG)
echo "--- the DCAP sample built without SGX_DEBUG=1: a release build, no signed enclave"
recipe bad-build sgx_sdk_bin dcap_source <<'YAML'
  - vendor_installer: {name: sdk, artifact: sgx_sdk_bin, args: [--prefix=/opt/intel], creates: /opt/intel/sgxsdk/environment}
  - source_build:
      name: dcap-sample
      artifact: dcap_source
      extract_to: /opt/intel/dcap
      dir: /opt/intel/dcap/confidential-computing.tee.dcap-DCAP_1.21/SampleCode/QuoteVerificationSample
      env_file: /opt/intel/sgxsdk/environment
      make: [[clean], [all]]
      creates: /opt/intel/dcap/confidential-computing.tee.dcap-DCAP_1.21/SampleCode/QuoteVerificationSample/enclave.signed.so
YAML
bake bad-build
assert_rc 1
sed -n "/error:/,\$p" <<<"$out" | head -n 12
assert_contains "$out" "the build in /opt/intel/dcap/confidential-computing.tee.dcap-DCAP_1.21/SampleCode/QuoteVerificationSample finished but did not create /opt/intel/dcap/confidential-computing.tee.dcap-DCAP_1.21/SampleCode/QuoteVerificationSample/enclave.signed.so"
[ ! -e "$R/opt/intel/dcap" ] || fail "the source tree unpacked by the failed build was left behind"

echo "--- the PPCIe verifier installed alone (the recipe's old way): its exact pins are unmet"
# nv-ppcie-verifier 1.6.1 requires nv-local-gpu-verifier and nv-attestation-sdk at exactly
# 2.6.1, which only the tag's other two folders provide (no index has them here).
recipe verifier-alone nvtrust_source nvtrust_wheelhouse <<'YAML'
  - python_venv:
      name: verifier-alone
      artifact: nvtrust_source
      extract_to: /opt/nvtrust/src
      venv: /opt/nvtrust/venv
      install: [./nvtrust-2025.7.17.001/guest_tools/ppcie-verifier]
      wheelhouse: nvtrust_wheelhouse
YAML
bake verifier-alone
assert_rc 1
sed -n "/error:/,\$p" <<<"$out" | head -n 12
assert_contains "$out" "pip install /opt/nvtrust/src/nvtrust-2025.7.17.001/guest_tools/ppcie-verifier into /opt/nvtrust/venv failed"
assert_contains "$out" "No matching distribution found for nv-"
[ ! -e "$R/opt/nvtrust" ] || fail "the failed venv step left /opt/nvtrust"

echo "--- the SDK installed elsewhere and its environment not sourced: the sample cannot find it"
rm -rf "$R/opt/intel/sgxsdk"  # the earlier case's SDK sits at the Makefile's default path
recipe no-env sgx_sdk_bin dcap_source <<'YAML'
  - vendor_installer: {name: sdk, artifact: sgx_sdk_bin, args: [--prefix=/opt/sgx-elsewhere], creates: /opt/sgx-elsewhere/sgxsdk/environment}
  - source_build:
      name: dcap-sample
      artifact: dcap_source
      extract_to: /opt/intel/dcap
      dir: /opt/intel/dcap/confidential-computing.tee.dcap-DCAP_1.21/SampleCode/QuoteVerificationSample
      make: [[clean], [SGX_DEBUG=1]]
      creates: /opt/intel/dcap/confidential-computing.tee.dcap-DCAP_1.21/SampleCode/QuoteVerificationSample/enclave.signed.so
YAML
bake no-env
assert_rc 1
sed -n "/error:/,\$p" <<<"$out" | head -n 12
assert_contains "$out" "\`make SGX_DEBUG=1\` failed in /opt/intel/dcap/confidential-computing.tee.dcap-DCAP_1.21/SampleCode/QuoteVerificationSample"
assert_contains "$out" "cc -I/opt/intel/sgxsdk/include" "the Makefile's default SGX_SDK"
assert_contains "$out" "sgx_urts.h: No such file or directory"

echo "--- an installer that exits 0 without creating its marker"
recipe no-marker sgx_sdk_bin <<'YAML'
  - vendor_installer: {name: sdk, artifact: sgx_sdk_bin, args: [--prefix=/opt/other], creates: /opt/intel/sgxsdk/missing}
YAML
bake no-marker
assert_rc 1
sed -n "/error:/,\$p" <<<"$out" | head -n 12
assert_contains "$out" "the installer sgx_sdk_bin exited 0 but did not create /opt/intel/sgxsdk/missing"
echo "ok"
