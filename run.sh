#!/usr/bin/env bash
# The main job: installs dependencies, builds Cumulus and shows the engine working on real
# programs. (The lattice demo — NATS, hosts, a deployed app — joins this script with the lattice.)
set -euo pipefail
cd "$(dirname "$0")"
scripts/deps.sh
scripts/build.sh
CUMULUS=build/src/cli/cumulus
FIX=../shared/fixtures
export CUMULUS_CACHE_DIR="$PWD/build/code-cache"

echo "== a C program (wasm32-wasi) on the baseline tier (libtcc, compiled in memory)"
$CUMULUS run-core --tier baseline --time --env GREETING=hi $FIX/toolchains/c-cli/hello.core.wasm -- Cumulus

echo "== the same program compiled ahead of time into the optimized tier's code cache"
$CUMULUS compile $FIX/toolchains/c-cli/hello.core.wasm
$CUMULUS run-core --tier optimized --time --env GREETING=hi $FIX/toolchains/c-cli/hello.core.wasm -- Cumulus

echo "== the WebAssembly 2.0 spec suite on the baseline tier"
tests/conformance/run_spec.sh --tier baseline
