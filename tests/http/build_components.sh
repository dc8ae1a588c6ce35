#!/usr/bin/env bash
# Builds the HTTP test components from tests/http/components/*.c into OUT_DIR (default
# build/test-components) with clang-14 (wasm32) and jco (npm, installed on first use by the
# fixtures' toolchains/env.sh). Skips work when the output is newer than its source.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${1:-$ROOT/build/test-components}"
# The real path: jco's in-process wasm-tools cannot read WIT through a symlinked ../shared.
FIXTURES="$(realpath "$ROOT/../shared/fixtures")"
mkdir -p "$OUT"
. "$FIXTURES/toolchains/env.sh"
for src in "$ROOT"/tests/http/components/*.c; do
  name="$(basename "$src" .c)"
  [[ "$OUT/$name.wasm" -nt "$src" ]] && continue
  clang-14 --target=wasm32-wasi -O2 -nostdlib -Wl,--no-entry -o "$OUT/$name.core.wasm" "$src"
  $JCO embed --wit "$FIXTURES/toolchains/c-http/wit" -n chttp "$OUT/$name.core.wasm" -o "$OUT/$name.embed.wasm"
  $JCO new "$OUT/$name.embed.wasm" -o "$OUT/$name.wasm"
done
