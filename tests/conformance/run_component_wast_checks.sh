#!/usr/bin/env bash
# Runs the repository's own component-model scripts (tests/conformance/component-wast/*.wast:
# runtime checks the shared scripts do not make) with `cumulus component-wast`, after compiling
# their component forms with jco (npm, installed on first use by the fixtures' toolchains/env.sh).
# Exits 77 (skipped) when node or jco is unavailable.
#   tests/conformance/run_component_wast_checks.sh [-v]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CUMULUS="${CUMULUS:-$ROOT/build/src/cli/cumulus}"
command -v node >/dev/null || { echo "skipped: node is not installed" >&2; exit 77; }
. "$ROOT/../shared/fixtures/toolchains/env.sh" || { echo "skipped: jco is unavailable" >&2; exit 77; }
[[ -f "$JCO_HOME/dist/api.js" ]] || { echo "skipped: jco is unavailable" >&2; exit 77; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cumulus-cm-wast.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/t"
cp "$ROOT"/tests/conformance/component-wast/*.wast "$WORK/t/"
node "$ROOT/tests/conformance/component-wast/compile.mjs" "$WORK/compiled" "$WORK"/t/*.wast
"$CUMULUS" component-wast --tier baseline --compiled "$WORK/compiled" "$@" "$WORK"/t/*.wast
