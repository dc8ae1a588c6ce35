#!/usr/bin/env bash
# run_http_bench.sh - HTTP serving benchmark: `cumulus serve` vs `jco serve` vs a native C++
# server, on loopback, with wrk.
#
# For every server x component it starts the server in its own process group, polls until it
# answers (with a deadline; no fixed sleeps), checks the response body, runs a wrk warm-up, then
# the measured wrk runs (--latency) while sampling the server's RSS from /proc, and stops the
# server. All servers get the same wrk settings. Prints one markdown table of raw numbers and one
# of ratios (Cumulus/jco, Cumulus/native) per component, and exits 1 if a server that should
# have worked did not answer (a failed jco run is reported in the table but does not fail the run).
#
# usage: bench/http/run_http_bench.sh [--cumulus PATH] [--native PATH] [--duration 10s]
#            [--runs 3] [--connections 64] [--wrk-threads 2] [--warmup 3s] [--wrk-timeout 30s]
#            [--server-threads N] [--only rust,c,js] [--no-jco] [--reuse] [--upgrade-wait SEC]
#            [--out DIR]
#
# Servers and modes (see bench/http/README.md for why):
#   cumulus   `cumulus serve FILE --listen 127.0.0.1:0` (fresh instance per request, pool 4)
#   cumulus+reuse  same with --reuse-instances (only with --reuse; not for JS, whose
#             StarlingMonkey runtime answers a single request per instance)
#   jco       `jco serve FILE --host 127.0.0.1 --port P`: its default mode, one instance for
#             all requests (its fastest). Not for JS: StarlingMonkey answers only one request
#             per instance, so every request after the first fails in that mode
#   jco+isolate  same with `--isolate-requests instance`: a fresh instance per request, the
#             semantics of `cumulus serve`
#   native    bench/http/native_hello (server.cpp's structure without wasm), one row, used as
#             the ceiling for every component
set -uo pipefail   # no -e: a failing server must not abort the whole run

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
FIXTURES="$REPO_ROOT/../shared/fixtures"

CUMULUS="$REPO_ROOT/build/src/cli/cumulus"
NATIVE=""
DURATION=10s
CONNECTIONS=64
WRK_THREADS=2
WARMUP=3s
WRK_TIMEOUT=30s
RUNS=3
SERVER_THREADS=""
ONLY="rust,c,js"
WITH_JCO=1
WITH_REUSE=0
UPGRADE_WAIT=120
OUT_DIR="$REPO_ROOT/build/bench-http"

usage() {
    cat <<USAGE
usage: $0 [options]
  --cumulus PATH        cumulus binary [build/src/cli/cumulus]
  --native PATH         native_hello binary [next to cumulus: <build>/bench/native_hello]
  --duration D          one measured wrk run [10s]
  --runs N              measured runs per server, back to back; the run with the median req/s
                        is reported, with the min-max range of all runs [3]
  --connections N       wrk connections [64]
  --wrk-threads N       wrk threads [2]
  --warmup D            discarded wrk run before each measurement [3s]
  --wrk-timeout D       wrk's per-request timeout; slower answers count as errors and drop
                        out of the latency figures, so it is generous [30s]
  --server-threads N    --threads for cumulus and native_hello [their default: one per core]
  --only LIST           components among rust,c,js [rust,c,js]
  --no-jco              skip jco serve
  --reuse               also measure cumulus serve --reuse-instances
  --upgrade-wait SEC    wait up to SEC for Cumulus's background optimized-tier compile of a
                        component to finish before measuring it (0: measure at once) [120]
  --out DIR             logs, raw wrk output, results.tsv, table.md [build/bench-http]
USAGE
}
die_usage() { echo "run_http_bench: $*" >&2; usage >&2; exit 2; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --cumulus) CUMULUS=${2:?}; shift 2 ;;
        --native) NATIVE=${2:?}; shift 2 ;;
        --duration) DURATION=${2:?}; shift 2 ;;
        --runs) RUNS=${2:?}; shift 2 ;;
        --connections) CONNECTIONS=${2:?}; shift 2 ;;
        --wrk-threads) WRK_THREADS=${2:?}; shift 2 ;;
        --warmup) WARMUP=${2:?}; shift 2 ;;
        --wrk-timeout) WRK_TIMEOUT=${2:?}; shift 2 ;;
        --server-threads) SERVER_THREADS=${2:?}; shift 2 ;;
        --only) ONLY=${2:?}; shift 2 ;;
        --no-jco) WITH_JCO=0; shift ;;
        --reuse) WITH_REUSE=1; shift ;;
        --upgrade-wait) UPGRADE_WAIT=${2:?}; shift 2 ;;
        --out) OUT_DIR=${2:?}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) die_usage "unknown argument '$1'" ;;
    esac
done

[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die_usage "--runs must be a positive integer"
[[ -x "$CUMULUS" ]] || { echo "run_http_bench: no cumulus binary at $CUMULUS (build it or pass --cumulus)" >&2; exit 2; }
CUMULUS=$(cd "$(dirname "$CUMULUS")" && pwd)/$(basename "$CUMULUS")
[[ -n "$NATIVE" ]] || NATIVE="$(dirname "$(dirname "$(dirname "$CUMULUS")")")/bench/native_hello"
[[ -x "$NATIVE" ]] || { echo "run_http_bench: no native_hello at $NATIVE (ninja -C <build> native_hello, or pass --native)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "run_http_bench: wrk not found (scripts/deps.sh installs it)" >&2; exit 2; }
command -v curl >/dev/null || { echo "run_http_bench: curl not found" >&2; exit 2; }

declare -A FILE=(
    [rust]="$FIXTURES/components/wasmcloud-wash/http_hello_world_rust.wasm"
    [c]="$FIXTURES/toolchains/c-http/hello_http.component.wasm"
    [js]="$FIXTURES/toolchains/js-http/hello.component.wasm"
)
declare -A BODY=(
    [rust]="Hello from Rust!"
    [c]="Hello from C over wasi:http!"
    [js]="Hello from jco componentize"
)
# Time to first answer: the JS component is a 14 MB StarlingMonkey module (tens of seconds to
# compile on a cold cache, under Cumulus and under jco alike).
declare -A START_DEADLINE=([rust]=60 [c]=60 [js]=600 [native]=20)

components=()
for c in ${ONLY//,/ }; do
    [[ -n "${FILE[$c]:-}" ]] || die_usage "unknown component '$c' (rust, c, js)"
    components+=("$c")
done

JCO=""
if ((WITH_JCO)); then
    # Installs jco 1.35 from npm on first use and defines $JCO.
    # shellcheck disable=SC1091
    . "$FIXTURES/toolchains/env.sh" || { echo "run_http_bench: jco setup failed; continuing without jco" >&2; WITH_JCO=0; }
fi

mkdir -p "$OUT_DIR/logs" "$OUT_DIR/wrk"
RESULTS="$OUT_DIR/results.tsv"
printf 'server\tcomponent\tmode\tstatus\twrk_file\trss_idle_kb\trss_peak_kb\thwm_kb\tnote\n' >"$RESULTS"

now() { date +%s.%N; }
elapsed_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# A free loopback port for servers that cannot be told "port 0" and report back (jco).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

SERVER_PGID=""
stop_server() {
    [[ -n "$SERVER_PGID" ]] || return 0
    kill -TERM -- "-$SERVER_PGID" 2>/dev/null
    local deadline=$((SECONDS + 10))
    while kill -0 -- "-$SERVER_PGID" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    kill -KILL -- "-$SERVER_PGID" 2>/dev/null
    SERVER_PGID=""
}
trap stop_server EXIT
trap 'stop_server; exit 130' INT TERM

# Server processes of the current group (for jco: the CLI and its `_run.js` server child), but
# not a compiler that Cumulus's optimized tier runs in the background.
server_pids() {
    local p comm
    for p in $(pgrep -g "$SERVER_PGID" 2>/dev/null); do
        comm=$(cat "/proc/$p/comm" 2>/dev/null) || continue
        case "$comm" in gcc|cc1|as|ld|collect2) ;; *) echo "$p" ;; esac
    done
}
rss_kb() {  # sum of FIELD (VmRSS / VmHWM) over the server's processes
    local field=$1 total=0 p v
    for p in $(server_pids); do
        v=$(awk -v f="$field:" '$1 == f { print $2 }' "/proc/$p/status" 2>/dev/null)
        total=$((total + ${v:-0}))
    done
    echo "$total"
}
compiler_running() {
    local p
    for p in $(pgrep -g "$SERVER_PGID" 2>/dev/null); do
        case "$(cat "/proc/$p/comm" 2>/dev/null)" in gcc|cc1|as|ld|collect2) return 0 ;; esac
    done
    return 1
}

# start_server NAME LOG CMD...: runs CMD in a new session (so the whole tree can be stopped).
start_server() {
    local log=$2
    shift 2
    setsid "$@" >"$log" 2>&1 </dev/null &
    SERVER_PGID=$!
}

# wait_ready URL DEADLINE_SEC: polls until the URL answers with HTTP 200.
wait_ready() {
    local url=$1 deadline=$((SECONDS + $2)) code
    while ((SECONDS < deadline)); do
        kill -0 "$SERVER_PGID" 2>/dev/null || return 1
        code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$url" 2>/dev/null)
        [[ "$code" == 200 ]] && return 0
        sleep 0.1
    done
    return 1
}

# wait_port_line LOG REGEX DEADLINE_SEC: polls LOG for the "listening on" line, prints the port.
wait_port_line() {
    local log=$1 re=$2 deadline=$((SECONDS + $3)) port
    while ((SECONDS < deadline)); do
        port=$(sed -n -E "s#$re#\\1#p" "$log" 2>/dev/null | head -1)
        [[ -n "$port" ]] && { echo "$port"; return 0; }
        kill -0 "$SERVER_PGID" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# measure SERVER COMPONENT MODE URL EXPECTED_BODY NOTE
measure() {
    local server=$1 comp=$2 mode=$3 url=$4 expect=$5 note=$6
    local tag="$server.$comp" body idle peak hwm v run files=() rates=()
    body=$(curl -s -m 30 "$url")
    if [[ "$body" != *"$expect"* ]]; then
        echo "  $tag: unexpected body '${body:0:80}'" >&2
        printf '%s\t%s\t%s\tbad-body\t\t\t\t\t%s\n' "$server" "$comp" "$mode" "$note" >>"$RESULTS"
        return 1
    fi
    idle=$(rss_kb VmRSS)
    local wrk_args=(-t"$WRK_THREADS" -c"$CONNECTIONS" --timeout "$WRK_TIMEOUT")
    wrk "${wrk_args[@]}" -d"$WARMUP" "$url" >"$OUT_DIR/wrk/$tag.warmup.txt" 2>&1
    peak=0
    for ((run = 1; run <= RUNS; run++)); do
        local wrk_file="$OUT_DIR/wrk/$tag.run$run.txt"
        wrk "${wrk_args[@]}" -d"$DURATION" --latency "$url" >"$wrk_file" 2>&1 &
        local wrk_pid=$!
        while kill -0 "$wrk_pid" 2>/dev/null; do
            v=$(rss_kb VmRSS)
            ((v > peak)) && peak=$v
            sleep 0.2
        done
        wait "$wrk_pid"
        files+=("$wrk_file")
        rates+=("$(awk '/^Requests\/sec/ { printf "%.0f", $2 }' "$wrk_file")")
    done
    hwm=$(rss_kb VmHWM)
    local IFS=,
    printf '%s\t%s\t%s\tok\t%s\t%s\t%s\t%s\t%s\n' "$server" "$comp" "$mode" "${files[*]}" "$idle" \
        "$peak" "$hwm" "$note" >>"$RESULTS"
    echo "  $tag: ${rates[*]} req/s"
}

fail_row() {  # SERVER COMPONENT MODE STATUS NOTE
    printf '%s\t%s\t%s\t%s\t\t\t\t\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$RESULTS"
}

STATUS=0
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
threads_args=()
[[ -n "$SERVER_THREADS" ]] && threads_args=(--threads "$SERVER_THREADS")

echo "== native_hello"
start_server native "$OUT_DIR/logs/native.log" "$NATIVE" --listen 127.0.0.1:0 "${threads_args[@]}"
if port=$(wait_port_line "$OUT_DIR/logs/native.log" '^serving native on http://127\.0\.0\.1:([0-9]+)/$' 20) &&
    wait_ready "http://127.0.0.1:$port/" "${START_DEADLINE[native]}"; then
    measure native all "-" "http://127.0.0.1:$port/" "${BODY[c]}" "" || STATUS=1
else
    echo "  native_hello did not start (log: $OUT_DIR/logs/native.log)" >&2
    fail_row native all - no-start ""
    STATUS=1
fi
stop_server

cumulus_run() {  # COMPONENT SERVERNAME MODE EXTRA_ARGS...
    local comp=$1 name=$2 mode=$3 log="$OUT_DIR/logs/$2.$1.log" port t0 note=""
    shift 3
    echo "== $name $comp"
    t0=$(now)
    start_server "$name" "$log" "$CUMULUS" serve "${FILE[$comp]}" --listen 127.0.0.1:0 \
        "${threads_args[@]}" "$@"
    if ! port=$(wait_port_line "$log" '^serving .* on http://127\.0\.0\.1:([0-9]+)/$' "${START_DEADLINE[$comp]}") ||
        ! wait_ready "http://127.0.0.1:$port/" 30; then
        echo "  $name did not start for $comp (log: $log)" >&2
        fail_row "$name" "$comp" "$mode" no-start ""
        STATUS=1
        stop_server
        return
    fi
    echo "  ready after $(elapsed_since "$t0") s"
    # The optimized tier is compiled in the background on a cold code cache; measure the steady
    # state unless told not to wait.
    if compiler_running; then
        local deadline=$((SECONDS + UPGRADE_WAIT))
        echo "  waiting up to ${UPGRADE_WAIT}s for the background optimized-tier compile"
        while compiler_running && ((SECONDS < deadline)); do sleep 1; done
        if compiler_running; then
            note="optimized tier still compiling: measured on the baseline tier"
        else
            note="waited $(elapsed_since "$t0") s for the optimized tier"
        fi
    fi
    measure "$name" "$comp" "$mode" "http://127.0.0.1:$port/" "${BODY[$comp]}" "$note" || STATUS=1
    stop_server
}

jco_run() {  # COMPONENT SERVERNAME MODE EXTRA_ARGS...
    local comp=$1 name=$2 mode=$3 log="$OUT_DIR/logs/$2.$1.log" port t0
    shift 3
    echo "== $name $comp"
    port=$(free_port)
    t0=$(now)
    # shellcheck disable=SC2086  # $JCO is a command line (node --import ... jco.js)
    start_server "$name" "$log" $JCO serve "${FILE[$comp]}" --host 127.0.0.1 --port "$port" "$@"
    if ! wait_ready "http://127.0.0.1:$port/" "${START_DEADLINE[$comp]}"; then
        echo "  jco serve did not answer for $comp (log: $log)" >&2
        fail_row "$name" "$comp" "$mode" no-start "$(tail -c 200 "$log" | tr '\t\n' '  ')"
        stop_server
        return
    fi
    echo "  ready after $(elapsed_since "$t0") s"
    measure "$name" "$comp" "$mode" "http://127.0.0.1:$port/" "${BODY[$comp]}" "" ||
        echo "  (jco failure recorded, not fatal)" >&2
    stop_server
}

for comp in "${components[@]}"; do
    cumulus_run "$comp" cumulus "fresh instance per request"
    # StarlingMonkey answers one request per instance (its fetch event cannot be answered
    # twice), so the JS component cannot be reused: every second request would be a 500.
    ((WITH_REUSE)) && [[ $comp != js ]] &&
        cumulus_run "$comp" cumulus+reuse "--reuse-instances" --reuse-instances
    if ((WITH_JCO)); then
        # jco's default mode (one instance for every request) is its fastest; the JS component
        # cannot run in it (StarlingMonkey answers one request per instance).
        [[ $comp != js ]] && jco_run "$comp" jco "default (one instance)"
        jco_run "$comp" jco+isolate "--isolate-requests instance" --isolate-requests instance
    fi
done

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
python3 "$SCRIPT_DIR/http_table.py" "$RESULTS" \
    --settings "wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION --timeout $WRK_TIMEOUT --latency, $RUNS runs per server after a $WARMUP warm-up, median run shown; $(nproc) CPUs, load average at start $LOAD_START, at end $LOAD_END" \
    | tee "$OUT_DIR/table.md"
exit $STATUS
