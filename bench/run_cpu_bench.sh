#!/usr/bin/env bash
# run_cpu_bench.sh - CPU benchmark: run every bench/programs/*.c benchmark
# natively, under node (node:wasi) and - with --cumulus - under Cumulus'
# baseline and optimized tiers; report best-of-N times, ratios to native and
# their geomean as a markdown table, and verify each engine's checksum line
# against native's (mismatch -> WRONG and a non-zero exit status).
#
# usage: bench/run_cpu_bench.sh [--cumulus PATH] [--reps N] [--timeout SEC]
#                               [--only NAME[,NAME...]] [--out DIR]
set -uo pipefail   # no -e: a failing engine must not abort the whole run

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)

CUMULUS=""
REPS=3
TIMEOUT=120
ONLY=""
OUT_DIR="$REPO_ROOT/build/bench-programs"
NODE=${NODE:-node}

usage() {
    cat <<USAGE
usage: $0 [--cumulus PATH] [--reps N] [--timeout SEC] [--only NAMES] [--out DIR]
  --cumulus PATH  cumulus binary; adds 'run-core --tier=baseline|optimized --time'
  --reps N        repetitions per engine and benchmark, best (minimum) is reported [3]
  --timeout SEC   per-run time limit; a run that exceeds it counts as failed [120]
  --only NAMES    comma-separated subset of benchmarks (e.g. fib,sort)
  --out DIR       build/results directory [<repo>/build/bench-programs]
Environment: NODE (node binary, default 'node'), CLANG (see build_programs.sh).
USAGE
}

die_usage() { echo "run_cpu_bench: $*" >&2; usage >&2; exit 2; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --cumulus) [[ $# -ge 2 ]] || die_usage "--cumulus needs a path"; CUMULUS=$2; shift 2 ;;
        --cumulus=*) CUMULUS=${1#*=}; shift ;;
        --reps) [[ $# -ge 2 ]] || die_usage "--reps needs a number"; REPS=$2; shift 2 ;;
        --reps=*) REPS=${1#*=}; shift ;;
        --timeout) [[ $# -ge 2 ]] || die_usage "--timeout needs seconds"; TIMEOUT=$2; shift 2 ;;
        --timeout=*) TIMEOUT=${1#*=}; shift ;;
        --only) [[ $# -ge 2 ]] || die_usage "--only needs names"; ONLY=$2; shift 2 ;;
        --only=*) ONLY=${1#*=}; shift ;;
        --out) [[ $# -ge 2 ]] || die_usage "--out needs a directory"; OUT_DIR=$2; shift 2 ;;
        --out=*) OUT_DIR=${1#*=}; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die_usage "unknown argument '$1'" ;;
    esac
done

[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || die_usage "--reps must be a positive integer"
[[ "$TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die_usage "--timeout must be a positive integer"
if [[ -n "$CUMULUS" ]]; then
    [[ -x "$CUMULUS" ]] || { echo "run_cpu_bench: '$CUMULUS' is not an executable file" >&2; exit 2; }
    CUMULUS=$(cd "$(dirname "$CUMULUS")" && pwd)/$(basename "$CUMULUS")
fi
command -v "$NODE" >/dev/null 2>&1 || { echo "run_cpu_bench: node not found (set NODE=...)" >&2; exit 2; }
command -v python3 >/dev/null 2>&1 || { echo "run_cpu_bench: python3 not found" >&2; exit 2; }

# ---- build
"$SCRIPT_DIR/build_programs.sh" "$OUT_DIR" || { echo "run_cpu_bench: build failed" >&2; exit 1; }

programs=()
for src in "$SCRIPT_DIR"/programs/*.c; do
    name=$(basename "$src" .c)
    if [[ -n "$ONLY" && ",$ONLY," != *",$name,"* ]]; then continue; fi
    programs+=("$name")
done
[[ ${#programs[@]} -gt 0 ]] || { echo "run_cpu_bench: no benchmarks selected" >&2; exit 2; }

engines=(native)
[[ -n "$CUMULUS" ]] && engines+=(baseline optimized)
engines+=(node)

WORK=$(mktemp -d "$OUT_DIR/run.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
LOG_DIR="$OUT_DIR/logs"   # stdout/stderr of failed runs
mkdir -p "$LOG_DIR"
rm -f "$LOG_DIR"/*.log
RESULTS="$OUT_DIR/cpu_results.tsv"
printf 'program\tengine\trep\tstatus\tms\tchecksum\n' >"$RESULTS"

# run_one ENGINE NAME: runs once; sets STATUS ("ok" or a reason), MS, CHECKSUM.
run_one() {
    local engine=$1 name=$2 wasm="$OUT_DIR/wasm/$2.wasm" cmd t0 t1 rc
    case "$engine" in
        native)    cmd=("$OUT_DIR/native/$name") ;;
        node)      cmd=("$NODE" "$SCRIPT_DIR/node_wasi_run.mjs" "$wasm") ;;
        baseline)  cmd=("$CUMULUS" run-core --tier=baseline --time "$wasm") ;;
        optimized) cmd=("$CUMULUS" run-core --tier=optimized --time "$wasm") ;;
        *) echo "run_cpu_bench: unknown engine $engine" >&2; exit 2 ;;
    esac
    t0=$(date +%s%N)
    timeout "$TIMEOUT" "${cmd[@]}" >"$WORK/out" 2>"$WORK/err" </dev/null
    rc=$?
    t1=$(date +%s%N)

    CHECKSUM=$(grep -E "^$name checksum=" "$WORK/out" | tail -n 1 | tr -d '\t\r')
    if [[ $rc -eq 124 ]]; then
        STATUS="timeout after ${TIMEOUT}s"
    elif [[ $rc -ne 0 ]]; then
        STATUS="exit status $rc"
    else
        STATUS=ok
    fi
    if [[ "$engine" == native ]]; then
        MS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
    else
        MS=$(grep -E '^elapsed_ms=' "$WORK/err" | tail -n 1 | cut -d= -f2 | tr -d '[:space:]')
        if [[ "$STATUS" == ok && -z "$MS" ]]; then STATUS="no elapsed_ms on stderr"; fi
    fi
    if [[ "$STATUS" != ok ]]; then  # keep the evidence
        { echo "\$ ${cmd[*]}"; echo "--- stdout"; cat "$WORK/out"; echo "--- stderr"; cat "$WORK/err"; } \
            >"$LOG_DIR/$name.$engine.log"
    fi
}

echo "run_cpu_bench: engines: ${engines[*]}; reps: $REPS; benchmarks: ${programs[*]}" >&2
for name in "${programs[@]}"; do
    for engine in "${engines[@]}"; do
        for ((rep = 1; rep <= REPS; rep++)); do
            run_one "$engine" "$name"
            printf '%s\t%s\t%d\t%s\t%s\t%s\n' "$name" "$engine" "$rep" "$STATUS" "$MS" "$CHECKSUM" >>"$RESULTS"
            if [[ "$STATUS" != ok ]]; then
                echo "  $name/$engine: FAILED ($STATUS), see $LOG_DIR/$name.$engine.log" >&2
                break   # a failing command is reported as n/a; don't repeat it
            fi
            echo "  $name/$engine rep $rep: ${MS} ms  ${CHECKSUM:-<no checksum line>}" >&2
        done
    done
done

engine_list=$(IFS=,; echo "${engines[*]}")
python3 "$SCRIPT_DIR/cpu_table.py" "$RESULTS" --engines "$engine_list" --reps "$REPS" \
    | tee "$OUT_DIR/cpu_table.md"
status=${PIPESTATUS[0]}
echo "run_cpu_bench: raw results in $RESULTS, table in $OUT_DIR/cpu_table.md" >&2
exit "$status"
