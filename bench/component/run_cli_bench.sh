#!/usr/bin/env bash
# `cumulus run` vs `jco run` of the same WASI 0.2 command component (the C hello from the
# fixtures' toolchains/c-cli), process start to exit, measured side by side with hyperfine.
# Also prints instantiate + handle of http_hello_world_rust from its plan (component_bench).
# Usage: bench/component/run_cli_bench.sh [BUILD_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${1:-$ROOT/build}"
F="$ROOT/../shared/fixtures"
. "$F/toolchains/env.sh"
HELLO="$F/toolchains/c-cli/hello.component.wasm"
CUMULUS="$BUILD/src/cli/cumulus"
"$CUMULUS" run "$HELLO" -- warm >/dev/null  # fills the code cache (optimized tier)
echo "== cumulus run vs jco run: $HELLO"
hyperfine -N --warmup 3 --runs 30 --export-json /tmp/cumulus_run_bench.json \
  "$CUMULUS run $HELLO -- a b" "$JCO run $HELLO a b" 2>&1 | grep -vE "^\s*$"
python3 - <<'PY'
import json
r = json.load(open("/tmp/cumulus_run_bench.json"))["results"]
c, j = r[0]["mean"], r[1]["mean"]
print(f"cumulus run mean {c*1000:.1f} ms, jco run mean {j*1000:.1f} ms: jco/cumulus = {j/c:.1f}x")
PY
echo "== instantiate + handle from the plan: http_hello_world_rust.wasm"
"$BUILD/bench/component_bench" http "$F/components/wasmcloud-wash/http_hello_world_rust.wasm" 5000
