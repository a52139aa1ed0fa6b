# The demo's world, shared by ci/demo.sh and the tests that bake the demo recipe (sourced, not
# run): checks the real recipes, builds (or reuses) the cloud-like base image, builds the
# stand-in vendor artifacts and serves them on 127.0.0.1 from a background server (it stops by itself
# after an hour; the caller kills $server_pid when done). After `demo_setup OUT`: $recipe, $base, $port, $server_pid and
# sets=(--set ...) with the demo_server URL and every stand-in's md5, ready for `ccbake bake`.
# Needs $root (the source tree); CCBAKE (default: the build's binary), CCBAKE_SRC and
# CCBAKE_TEST_CACHE are exported. `say` is defined when the caller has none.
export CCBAKE="${CCBAKE:-$root/build/ccbake}" CCBAKE_SRC="$root"
export CCBAKE_TEST_CACHE="${CCBAKE_TEST_CACHE:-/var/cache/ccbake-tests}"
declare -F say >/dev/null || say() { printf '\n==> %s\n' "$*"; }

demo_setup() {  # OUT
    local out="$1"
    mkdir -p "$out"
    recipe="$root/recipes/demo/ppcie-8gpu-demo.yaml"
    say "checking the real recipes"
    "$CCBAKE" validate "$root"/recipes/*.yaml "$recipe"

    say "Debian 12 UEFI base image with a stock cloud image's traits (built once with mmdebstrap, then reused)"
    base="$(bash "$root/tests/fixtures/cloud-image.sh")"
    echo "base image: $base"

    say "building stand-in vendor artifacts (NOT vendor software: test fixtures in the real formats)"
    serve="$out/server"
    rm -rf "$serve" && mkdir -p "$serve"
    bash "$root/tests/fixtures/standins/make-standins.sh" "$out/standins" >/dev/null
    place() {  # ARTIFACT PATH-ON-SERVER
        local file
        file="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]]["file"])' "$out/standins/artifacts.json" "$1")"
        mkdir -p "$(dirname "$serve/$2")"
        cp "$out/standins/$file" "$serve/$2"  # the server refuses links that leave its root
    }
    place nvidia_driver_run nvidia-binary-driver/driver/x86_64/NVIDIA-Linux-x86_64-570.195.03.run
    place fabricmanager_deb nvidia-binary-driver/fabricmanager/x86_64/ubuntu/nvidia-fabricmanager-570_570.195.03-1_amd64.deb
    place nscq_deb cuda/libnvidia-nscq-570_570.195.03-1_amd64.deb
    place sgx_local_repo intel-sgx/sgx_debian_local_repo.tgz
    place sgx_sdk_bin intel-sgx/sgx_linux_x64_sdk_2.24.100.3.bin
    place dcap_source intel-sgx/DCAP_1.21.tar.gz
    place nvtrust_source nvtrust/2025.7.17.001.tar.gz
    place nvtrust_wheelhouse nvtrust/nvtrust-wheelhouse.tar.gz
    sets=()
    while read -r name md5; do sets+=(--set "${name}_md5=$md5"); done < <(python3 -c 'import json, sys
for name, a in sorted(json.load(open(sys.argv[1])).items()): print(name, a["md5"])' "$out/standins/artifacts.json")

    say "serving them on 127.0.0.1"
    rm -f "$out/server.port"
    python3 "$root/tests/server/artifact_server.py" --root "$serve" --port 0 --port-file "$out/server.port" \
        --max-seconds 3600 >"$out/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 50); do [ -s "$out/server.port" ] && break; sleep 0.1; done
    port="$(cat "$out/server.port")"
    echo "artifact server: http://127.0.0.1:$port/"
    sets+=(--set "demo_server=http://127.0.0.1:$port")
}
