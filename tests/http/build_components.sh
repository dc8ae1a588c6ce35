#!/usr/bin/env bash
# Builds the HTTP test components from tests/http/components/*.c into OUT_DIR (default
# build/test-components) with clang-14 (wasm32) and jco (npm, installed on first use by the
# fixtures' toolchains/env.sh). Skips work when the output is newer than its source. A component
# with a NAME.wit world beside it is built against that world, with the fixtures' WASI packages
# and the packages in components/wit-deps as its dependencies; others use the fixtures' c-http
# world.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${1:-$ROOT/build/test-components}"
# The real path: jco's in-process wasm-tools cannot read WIT through a symlinked ../shared.
FIXTURES="$(realpath "$ROOT/../shared/fixtures")"
mkdir -p "$OUT"
# HTTP and lattice tests build into the same directory and may start together (ctest -j).
exec 9>"$OUT/.build.lock"
flock 9
. "$FIXTURES/toolchains/env.sh"
for src in "$ROOT"/tests/http/components/*.c; do
  name="$(basename "$src" .c)"
  [[ "$OUT/$name.wasm" -nt "$src" && "$OUT/$name.wasm" -nt "$ROOT/tests/http/components/http_imports.h" ]] && continue
  clang-14 --target=wasm32-wasi -O2 -nostdlib -Wl,--no-entry -o "$OUT/$name.core.wasm" "$src"
  wit="$FIXTURES/toolchains/c-http/wit" world=chttp
  if [[ -f ${src%.c}.wit ]]; then
    wit="$OUT/wit-$name" world=$(sed -n 's/^world \([a-z0-9-]*\).*/\1/p' "${src%.c}.wit")
    rm -rf "$wit" && mkdir -p "$wit/deps"
    cp -r "$FIXTURES/toolchains/c-http/wit/deps/." "$ROOT/tests/http/components/wit-deps/." "$wit/deps/"
    cp "${src%.c}.wit" "$wit/world.wit"
  fi
  $JCO embed --wit "$wit" -n "$world" "$OUT/$name.core.wasm" -o "$OUT/$name.embed.wasm"
  $JCO new "$OUT/$name.embed.wasm" -o "$OUT/$name.wasm"
done
