#!/usr/bin/env bash
# The main job: installs dependencies, builds Cumulus and shows it working on real programs: the
# engine on a core module, a WASI 0.2 command component, an HTTP component served and fetched with
# curl, a lattice (nats-server + host) with an app deployed through the CLI, then the spec suite.
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

echo "== a WASI 0.2 command component: cumulus run with a granted directory, env and args"
$CUMULUS run $FIX/toolchains/c-cli/hello.component.wasm --dir $FIX/toolchains/c-cli/data::/data \
  --env GREETING=hello -- Cumulus

echo "== wasmCloud's Rust HTTP hello world served by cumulus serve, fetched with curl"
LOG="$(mktemp)"
$CUMULUS serve $FIX/components/wasmcloud-wash/http_hello_world_rust.wasm --listen 127.0.0.1:0 >"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 600); do
  PORT="$(sed -n 's|.*on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$LOG")"
  [[ -n "$PORT" ]] && break
  kill -0 $SERVER 2>/dev/null || { cat "$LOG"; exit 1; }
  sleep 0.1
done
curl -s -i "http://127.0.0.1:$PORT/"
kill $SERVER

echo "== a lattice: cumulus up -d, components and the builtin http-server linked by the CLI, curl"
scripts/lattice_demo.sh "$CUMULUS" "$FIX"

echo "== the WebAssembly 2.0 spec suite on the baseline tier"
tests/conformance/run_spec.sh --tier baseline
