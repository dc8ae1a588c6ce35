#!/usr/bin/env bash
# Runs the WebAssembly 2.0 core spec suite (../shared/fixtures/wasm-spec-2.0, 147 files; the five
# table_* files come from wabt-compat/, whose syntax Debian's wast2json accepts) on one tier and
# checks the result against the expected command count.
#   tests/conformance/run_spec.sh [--tier baseline|optimized|interpreter] [--files "a b c"]
#                                 [--units N]   (split modules into N C units, as large ones are)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SUITE="${CUMULUS_SPEC_DIR:-$ROOT/../shared/fixtures/wasm-spec-2.0}"
CUMULUS="${CUMULUS:-$ROOT/build/src/cli/cumulus}"
TIER=baseline
FILES=""
UNITS=()
while (($#)); do
  case "$1" in
    --tier) TIER="$2"; shift 2 ;;
    --files) FILES="$2"; shift 2 ;;
    --units) UNITS=(--units "$2"); shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
OUT="$ROOT/build/spec-json"
mkdir -p "$OUT"
jsons=()
for wast in "$SUITE"/*.wast; do
  name="$(basename "$wast" .wast)"
  if [[ -n "$FILES" && " $FILES " != *" $name "* ]]; then continue; fi
  src="$wast"
  [[ -f "$SUITE/wabt-compat/$name.wast" ]] && src="$SUITE/wabt-compat/$name.wast"
  mkdir -p "$OUT/$name"
  json="$OUT/$name/$name.json"
  if [[ ! -f "$json" || "$src" -nt "$json" ]]; then
    wast2json "$src" -o "$json"
  fi
  jsons+=("$json")
done
echo "spec suite: ${#jsons[@]} files, tier $TIER ${UNITS[*]}"
"$CUMULUS" wast --tier "$TIER" "${UNITS[@]}" --skip-list "$ROOT/tests/conformance/spec_skip.txt" "${jsons[@]}" \
  2> >(grep -v -e "runs on the interpreter tier" -e "duplicate import declaration" >&2) | tee "$OUT/result-$TIER${UNITS[1]:-}.txt" | grep -E "FAIL|^total" || true
total_line="$(grep '^total:' "$OUT/result-$TIER${UNITS[1]:-}.txt")"
passed="$(sed -E 's/^total: ([0-9]+)\/([0-9]+).*/\1/' <<<"$total_line")"
total="$(sed -E 's/^total: ([0-9]+)\/([0-9]+).*/\2/' <<<"$total_line")"
skipped="$(grep -oE '[0-9]+ skipped' <<<"$total_line" | cut -d' ' -f1 || true)"
skipped="${skipped:-0}"
echo "spec suite ($TIER): $passed/$total passed, $skipped skipped (see tests/conformance/spec_skip.txt)"
if [[ -z "$FILES" && "$total" != 53888 ]]; then
  echo "expected 53888 commands in the suite, found $total" >&2
  exit 1
fi
((passed + skipped == total))
