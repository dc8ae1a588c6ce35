#!/usr/bin/env bash
# End-to-end tests of `cumulus serve` with real clients (curl, and raw sockets for hostile
# traffic): the test handler built from tests/http/components, the wasi:http components in the
# fixtures, and the StarlingMonkey JS handler (its first and its thousandth request).
# Usage: run_http_tests.sh CUMULUS_BINARY [BUILD_DIR]
set -uo pipefail
CUMULUS="$(realpath "$1")"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${2:-$ROOT/build}"
F="$ROOT/../shared/fixtures"
WORK="$(mktemp -d)"
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null || true
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
failures=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1${2:+: $2}"; failures=$((failures + 1)); }

# Starts `cumulus serve FILE ARGS...` on a free port; sets PORT. Waits (polling, with a
# deadline of $WAIT seconds) until it prints where it listens and answers a request.
serve() {
  local file="$1"; shift
  local log="$WORK/$(basename "$file").$RANDOM.log"
  "$CUMULUS" serve "$file" --listen 127.0.0.1:0 "$@" >"$log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  SERVER_PID=$pid
  SERVER_LOG=$log
  local deadline=$((SECONDS + ${WAIT:-60}))
  PORT=""
  while ((SECONDS < deadline)); do
    PORT="$(sed -n 's|.*on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$log" 2>/dev/null)"
    [[ -n "$PORT" ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if [[ -z "$PORT" ]]; then
    echo "server for $file did not start:"; cat "$log"
    return 1
  fi
}

stop() { kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; }

expect() {  # expect NAME EXPECTED_STATUS EXPECTED_BODY CURL_ARGS...
  local name="$1" status="$2" body="$3"; shift 3
  local out
  out="$(curl -s -o "$WORK/body" -w '%{http_code}' --max-time 30 "$@")"
  if [[ "$out" == "$status" && "$(cat "$WORK/body")" == "$body" ]]; then pass "$name"
  else fail "$name" "got $out '$(head -c 200 "$WORK/body")'"; fi
}

# ---- the test handler ----
"$ROOT/tests/http/build_components.sh" "$BUILD/test-components" || { echo "cannot build test components"; exit 1; }
# A short deadline for the runaway-handler check, on its own server: the streaming checks below
# need far more than that on a loaded machine.
serve "$BUILD/test-components/test_handler.wasm" --deadline-ms 1500 || exit 1
start=$SECONDS
code="$(curl -s -o "$WORK/body" -w '%{http_code}' --max-time 60 "http://127.0.0.1:$PORT/loop")"
[[ "$code" == 500 ]] && grep -q "deadline" "$WORK/body" && pass "runaway handler cut off at its deadline ($((SECONDS - start)) s)" || fail "runaway handler" "$code $(cat "$WORK/body")"
expect "still serving after a runaway handler" 200 "hello" "http://127.0.0.1:$PORT/"
stop
serve "$BUILD/test-components/test_handler.wasm" --deadline-ms 600000 || exit 1
URL="http://127.0.0.1:$PORT"
expect "GET /" 200 "hello" "$URL/"
expect "path and query reach the guest" 200 "/path?a=1&b=%20" "$URL/path?a=1&b=%20"
out="$(curl -s -I -o /dev/null -w '%{http_code} %{size_download}' "$URL/")"
[[ "$out" == "200 0" ]] && pass "HEAD has no body" || fail "HEAD has no body" "$out"
code="$(curl -s -o "$WORK/body" -w '%{http_code}' "$URL/trap")"
[[ "$code" == 500 ]] && grep -q "unreachable" "$WORK/body" && pass "trap -> 500 with the reason" || fail "trap -> 500" "$code"
code="$(curl -s -o /dev/null -w '%{http_code}' "$URL/none")"
[[ "$code" == 500 ]] && pass "no response set -> 500" || fail "no response set" "$code"
expect "still serving after faults" 200 "hello" "$URL/"
head -c 3000000 /dev/urandom >"$WORK/rnd"
curl -s --data-binary @"$WORK/rnd" "$URL/echo" -o "$WORK/echo" && cmp -s "$WORK/echo" "$WORK/rnd" && pass "3 MB echo round trip (content-length)" || fail "3 MB echo"
curl -s -T "$WORK/rnd" -X POST -H "Transfer-Encoding: chunked" "$URL/echo" -o "$WORK/echo2" && cmp -s "$WORK/echo2" "$WORK/rnd" && pass "3 MB echo round trip (chunked upload)" || fail "chunked echo"
# Request trailers (a chunked body's trailer section) reach the guest through future-trailers.
trailers_of() {  # trailers_of PORT TRAILER_LINES: the /trailers answer to a raw chunked request
  python3 - "$1" "$2" <<'PY'
import socket, sys
port, trailer = int(sys.argv[1]), sys.argv[2].replace("\\n", "\r\n")
s = socket.create_connection(("127.0.0.1", port), timeout=30)
s.sendall(b"POST /trailers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
          b"5\r\nhello\r\n0\r\n" + trailer.encode() + b"\r\n")
data = b""
while chunk := s.recv(65536):
    data += chunk
head, _, body = data.partition(b"\r\n\r\n")
out, rest = b"", body  # de-chunk the response
while rest:
    size, _, rest = rest.partition(b"\r\n")
    n = int(size, 16)
    if n == 0:
        break
    out, rest = out + rest[:n], rest[n + 2:]
print(out.decode(), end="")
PY
}
got="$(trailers_of "$PORT" 'x-checksum: abc123\nx-count: 2\n')"
[[ "$got" == $'x-checksum: abc123\nx-count: 2' ]] && pass "request trailers reach the guest" || fail "request trailers" "'$got'"
got="$(trailers_of "$PORT" '')"
[[ "$got" == "no trailers" ]] && pass "no trailer section: none" || fail "no request trailers" "'$got'"
# 1 GB each way streams through the host with bounded memory.
got="$(head -c 1000000000 /dev/zero | curl -s -T - -X POST "$URL/count")"
[[ "$got" == 1000000000 ]] && pass "1 GB upload streamed" || fail "1 GB upload" "$got"
got="$(curl -s "$URL/big/1000000000" | wc -c)"
[[ "$got" == 1000000000 ]] && pass "1 GB download streamed" || fail "1 GB download" "$got"
rss_kb="$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")"
((rss_kb < 400000)) && pass "peak RSS after 1 GB each way: $((rss_kb / 1024)) MiB" || fail "peak RSS too high" "${rss_kb} KiB"
python3 "$ROOT/tests/http/bad_traffic.py" "$PORT" || failures=$((failures + 1))
stop

# ---- fixtures: wasmCloud's Rust hello world and the C handler ----
serve "$F/components/wasmcloud-wash/http_hello_world_rust.wasm" || exit 1
expect "wasmCloud http_hello_world_rust" 200 "Hello from Rust!" "http://127.0.0.1:$PORT/"
stop
serve "$F/toolchains/c-http/hello_http.component.wasm" || exit 1
expect "C wasi:http handler (toolchains/c-http)" 200 "Hello from C over wasi:http!" "http://127.0.0.1:$PORT/"
stop
# The gRPC hello world calls helloworld.Greeter/SayHello over wasi:http (HTTP/2, trailers) at
# $GRPC_SERVER_URI. Without a server its outgoing request must fail cleanly (connection-refused
# surfaces as a 500, the host keeps serving); with a real gRPC server (grpc-js from npm, h2c on
# [::1]) it must get the greeting back.
grpc="$F/components/wasmcloud-wash/rt_grpc_hello_world.wasm"
refused_port="$(python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0)); print(s.getsockname()[1])')"
serve "$grpc" --env "GRPC_SERVER_URI=http://[::1]:$refused_port" || exit 1
code="$(curl -s -o "$WORK/body" -w '%{http_code}' "http://127.0.0.1:$PORT/")"
[[ "$code" == 500 ]] && grep -q "ConnectionRefused" "$WORK/body" && pass "gRPC hello world: outgoing connection refused reported" || fail "gRPC hello world (no server)" "$code $(cat "$WORK/body")"
stop
npm_dir="$(realpath "$BUILD")/grpc-npm"
mkdir -p "$npm_dir"
install_grpc() {
  [[ -f $npm_dir/node_modules/@grpc/grpc-js/package.json && -f $npm_dir/node_modules/@grpc/proto-loader/package.json ]] ||
    (cd "$npm_dir" && npm install --no-audit --no-fund --silent @grpc/grpc-js@1 @grpc/proto-loader@0 >/dev/null 2>&1)
}
if (flock 9 && install_grpc) 9>"$npm_dir/.npm-install.lock"; then
  node "$ROOT/tests/http/grpc/greeter_server.mjs" "$npm_dir/node_modules" "[::1]" >"$WORK/grpc.log" 2>&1 &
  grpc_pid=$!
  PIDS+=("$grpc_pid")
  grpc_port=""
  deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)) && [[ -z $grpc_port ]] && kill -0 "$grpc_pid" 2>/dev/null; do
    grpc_port="$(sed -n 's/^listening \([0-9]*\)$/\1/p' "$WORK/grpc.log")"
    [[ -z $grpc_port ]] && sleep 0.05
  done
  if [[ -n $grpc_port ]]; then
    serve "$grpc" --env "GRPC_SERVER_URI=http://[::1]:$grpc_port" || exit 1
    for i in 1 2 3; do
      code="$(curl -s -o "$WORK/body" -w '%{http_code}' --max-time 30 "http://127.0.0.1:$PORT/")"
      if [[ "$code" == 200 ]] && grep -q "Hello wasmCloud from grpc-js (call $i)" "$WORK/body"; then
        pass "gRPC hello world: call $i answered by a real gRPC server over HTTP/2"
      else
        fail "gRPC hello world call $i" "$code $(head -c 300 "$WORK/body")"
      fi
    done
    stop
  else
    fail "gRPC server did not start" "$(cat "$WORK/grpc.log")"
  fi
  kill "$grpc_pid" 2>/dev/null
else
  fail "npm install @grpc/grpc-js failed (the gRPC server of this test comes from npm)"
fi

# ---- StarlingMonkey (JS): first request, then the thousandth ----
# Baseline tier only: the optimizing compile of its 14 MB core module takes minutes of CPU.
WAIT=600 serve "$F/toolchains/js-http/hello.component.wasm" --tier baseline || exit 1
expect "JS handler: first request" 200 "Hello from jco componentize" "http://127.0.0.1:$PORT/"
urls=()
for i in $(seq 999); do urls+=("http://127.0.0.1:$PORT/"); done
n="$(curl -s "${urls[@]}" | grep -o "Hello from jco componentize" | wc -l)"
[[ "$n" == 999 ]] && pass "JS handler: 1000 requests (fresh instance each)" || fail "JS handler 1000 requests" "$n/999"
stop

echo "http tests: $failures failure(s)"
exit $((failures > 0))
