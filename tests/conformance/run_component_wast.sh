#!/usr/bin/env bash
# Runs the component-model .wast scripts (../shared/fixtures/component-model: the spec repo's
# values/, resources/ and linking/ tests and wasmtime's misc_testsuite/component-model, without
# the async ones) with `cumulus component-wast`, prints passed/total per directory, and fails when
# a directive fails or a directory passes fewer directives than it did when this was checked in.
#   tests/conformance/run_component_wast.sh [--quick] [-v]
# --quick leaves out wasmtime-misc/big-strings.wast (2 GiB strings: ~2.5 minutes, ~2 GB of RAM).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
FIX="${CUMULUS_CM_FIXTURES:-$ROOT/../shared/fixtures/component-model}"
CUMULUS="${CUMULUS:-$ROOT/build/src/cli/cumulus}"
QUICK=0
VERBOSE=()
while (($#)); do
  case "$1" in
    --quick) QUICK=1; shift ;;
    -v) VERBOSE=(-v); shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

# Passed directives per directory when last checked in: a lower count is a regression. Raise
# these when fixes land (and update docs/conformance.md).
declare -A EXPECTED=(
  [spec-repo/values]=154
  [spec-repo/resources]=36
  [spec-repo/linking]=262
  [wasmtime-misc]=358
)
BIG_STRINGS=158  # wasmtime-misc/big-strings.wast, part of the wasmtime-misc count

files=("$FIX"/spec-repo/values/*.wast "$FIX"/spec-repo/resources/*.wast "$FIX"/spec-repo/linking/*.wast)
for f in "$FIX"/wasmtime-misc/*.wast "$FIX"/wasmtime-misc/gc/*.wast; do
  if ((QUICK)) && [[ "$(basename "$f")" == big-strings.wast ]]; then continue; fi
  files+=("$f")
done

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
status=0
"$CUMULUS" component-wast --tier baseline --compiled "$FIX/compiled" \
  --skip-list "$ROOT/tests/conformance/component_wast_skip.txt" "${VERBOSE[@]}" "${files[@]}" \
  >"$out" || status=$?
grep -E "FAIL|SKIP|NOTE" "$out" || true

# Per-file lines read "dir/file.wast: P/T" or "dir/file.wast: P/T (S skipped)".
summary="$(awk '
  /^[^ ].*\.wast: [0-9]+\/[0-9]+/ {
    file = $1; sub(/:$/, "", file)
    dir = file; sub(/\/[^\/]*$/, "", dir); sub(/^wasmtime-misc\/.*/, "wasmtime-misc", dir)
    split($2, pt, "/"); skipped = 0
    if (match($0, /\(([0-9]+) skipped\)/)) { s = substr($0, RSTART + 1); sub(/ .*/, "", s); skipped = s }
    passed[dir] += pt[1]; total[dir] += pt[2]; skip[dir] += skipped
  }
  END { for (d in passed) printf "%s %d %d %d\n", d, passed[d], total[d], skip[d] }' "$out" | sort)"

fail=0
echo "component-model scripts (passed/total, skipped):"
while read -r dir passed total skipped; do
  want="${EXPECTED[$dir]:-0}"
  if [[ "$dir" == wasmtime-misc ]] && ((QUICK)); then want=$((want - BIG_STRINGS)); fi
  printf "  %-22s %4d/%-4d %4d skipped (expected at least %d passed)\n" "$dir" "$passed" "$total" \
    "$skipped" "$want"
  if ((passed < want)); then
    echo "  regression: $dir passes $passed, expected at least $want" >&2
    fail=1
  fi
done <<<"$summary"
grep '^total:' "$out"
if ((status != 0)); then
  echo "some directives failed (see FAIL lines above)" >&2
  fail=1
fi
exit "$fail"
