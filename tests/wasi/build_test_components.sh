#!/usr/bin/env bash
# Builds the WASI test components from tests/wasi/components/*.c into OUT_DIR (default
# build/test-components) with clang-14 (wasm32, no libc) and jco (npm, installed on first use by
# the fixtures' toolchains/env.sh), like tests/http/build_components.sh. Each component is a
# wasi:cli/run@0.2.6 command; the world it targets is written into a scratch WIT directory next
# to the fixtures' WASI 0.2.6 packages (toolchains/c-http/wit/deps), so no WIT lives in the repo.
# Skips a component whose output is newer than its source and this script.
#   tests/wasi/build_test_components.sh [OUT_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${1:-$ROOT/build/test-components}"
FIXTURES="$ROOT/../shared/fixtures"
SELF="$ROOT/tests/wasi/build_test_components.sh"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

stale=()
for src in "$ROOT"/tests/wasi/components/*.c; do
  name="$(basename "$src" .c)"
  [[ "$OUT/$name.wasm" -nt "$src" && "$OUT/$name.wasm" -nt "$SELF" ]] || stale+=("$src")
done
((${#stale[@]})) || exit 0

. "$FIXTURES/toolchains/env.sh"
WIT="$(mktemp -d "${TMPDIR:-/tmp}/cumulus-wasi-wit.XXXXXX")"
trap 'rm -rf "$WIT"' EXIT
# jco reads WIT through a WASI filesystem shim that does not follow symlinks: copy the packages.
cp -r "$FIXTURES/toolchains/c-http/wit/deps" "$WIT/deps"
cat >"$WIT/world.wit" <<'EOF'
package cumulus:tests;

world sockets-test {
  import wasi:sockets/instance-network@0.2.6;
  import wasi:sockets/network@0.2.6;
  import wasi:sockets/tcp-create-socket@0.2.6;
  import wasi:sockets/tcp@0.2.6;
  import wasi:sockets/udp-create-socket@0.2.6;
  import wasi:sockets/udp@0.2.6;
  import wasi:sockets/ip-name-lookup@0.2.6;
  import wasi:io/streams@0.2.6;
  import wasi:io/poll@0.2.6;
  import wasi:cli/stdout@0.2.6;
  import wasi:cli/environment@0.2.6;
  export wasi:cli/run@0.2.6;
}
EOF

for src in "${stale[@]}"; do
  name="$(basename "$src" .c)"
  clang-14 --target=wasm32-wasi -O2 -Wall -Werror -nostdlib -Wl,--no-entry \
    -o "$OUT/$name.core.wasm" "$src"
  $JCO embed --wit "$WIT" -n sockets-test "$OUT/$name.core.wasm" -o "$OUT/$name.embed.wasm"
  $JCO new "$OUT/$name.embed.wasm" -o "$OUT/$name.wasm.tmp"
  mv "$OUT/$name.wasm.tmp" "$OUT/$name.wasm"
done
