#!/usr/bin/env bash
# Installs the Debian 12 packages Cumulus needs to build, test and benchmark. Idempotent: only
# missing packages are installed (apt-get update runs only when something is missing).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git python3 curl
  # engine: wabt (libwabt + wasm2c + wast2json), libtcc (baseline tier), gcc (optimized tier)
  wabt libtcc-dev tcc
  # base libraries
  nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev libsodium-dev libboost-dev
  # wasi:http: outgoing client (libcurl with OpenSSL), load generator for benchmarks
  libcurl4-openssl-dev libssl-dev wrk
  # lattice: NATS server (started by `cumulus up` and integration tests) and the NATS C client
  nats-server libnats-dev
  # tests and benchmarks
  googletest libgtest-dev libgmock-dev libbenchmark-dev clang-14 lld-14 libclang-rt-14-dev
  wasi-libc libclang-rt-14-dev-wasm32 nodejs hyperfine
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# npm (for jco, the reference host of differential tests): NodeSource's nodejs bundles it and
# conflicts with Debian's npm package, so install Debian's only when no npm is present.
if ! command -v npm >/dev/null 2>&1; then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq npm >/dev/null
fi
