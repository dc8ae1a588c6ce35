#!/usr/bin/env bash
# wasi:sockets end to end: runs tests/wasi/components/sockets_test.c (built by
# build_test_components.sh) under `cumulus run` against real peers on loopback, started and
# stopped here: a python3 TCP echo server, a UDP echo server, a TCP server that resets every
# connection and a bound but not listening TCP socket (a port that refuses connections). Checks exit codes and stdout for: allowed connects
# working end to end (small echo, 8 MiB interleaved echo, listen + accept, UDP unconnected and
# connected), connects outside the allow-list and without --allow-socket denied, connection
# refused, name lookup of localhost, and the invalid-state/invalid-argument cases.
# Prints PASS/FAIL per case and `passed/total`; exits 77 (skipped) when the toolchain to build
# the component (clang-14, node) is missing.
#   tests/wasi/sockets_test.sh [--cumulus PATH] [--components DIR] [--verbose]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CUMULUS="${CUMULUS:-$ROOT/build/src/cli/cumulus}"
COMPONENTS="$ROOT/build/test-components"
VERBOSE=0
TIMEOUT=60  # seconds per `cumulus run`
while (($#)); do
  case "$1" in
    --cumulus) CUMULUS="$2"; shift 2 ;;
    --components) COMPONENTS="$2"; shift 2 ;;
    --verbose) VERBOSE=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -x "$CUMULUS" ]] || { echo "no cumulus binary at $CUMULUS (build it, or pass --cumulus)" >&2; exit 2; }
for tool in clang-14 node python3; do
  command -v "$tool" >/dev/null || { echo "skipped: $tool is not installed" >&2; exit 77; }
done
"$ROOT/tests/wasi/build_test_components.sh" "$COMPONENTS"
WASM="$COMPONENTS/sockets_test.wasm"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cumulus-sockets-test.XXXXXX")"
PEERS_PID=""
cleanup() {
  local rc=$?
  if [[ -n "$PEERS_PID" ]]; then
    kill "$PEERS_PID" 2>/dev/null || true
    wait "$PEERS_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

# The peers: print "TCP_PORT UDP_PORT REFUSING_PORT RESETTING_PORT" once every socket is ready,
# then serve until killed.
mkfifo "$WORK/peers"
python3 -u - >"$WORK/peers" 2>"$WORK/peers.err" <<'PY' &
import socket, struct, threading
def serve_tcp(conn):
    with conn:
        while data := conn.recv(65536):
            conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)
def accept_loop(srv):
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve_tcp, args=(conn,), daemon=True).start()
def reset_loop(srv):
    while True:
        conn, _ = srv.accept()
        conn.recv(1)  # after the client's first byte, so that its connect has completed
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()  # with a zero linger time: the peer gets a RST
def udp_loop(udp):
    while True:
        data, peer = udp.recvfrom(65536)
        udp.sendto(data, peer)
tcp = socket.socket()
for opt in (socket.SO_RCVBUF, socket.SO_SNDBUF):  # small, so that tcp-bulk exercises backpressure
    tcp.setsockopt(socket.SOL_SOCKET, opt, 16384)
tcp.bind(("127.0.0.1", 0))
tcp.listen()
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("127.0.0.1", 0))
refusing = socket.socket()  # bound, never listening: connects to it are refused
refusing.bind(("127.0.0.1", 0))
resetting = socket.create_server(("127.0.0.1", 0))
threading.Thread(target=accept_loop, args=(tcp,), daemon=True).start()
threading.Thread(target=reset_loop, args=(resetting,), daemon=True).start()
threading.Thread(target=udp_loop, args=(udp,), daemon=True).start()
print(tcp.getsockname()[1], udp.getsockname()[1], refusing.getsockname()[1],
      resetting.getsockname()[1], flush=True)
threading.Event().wait()
PY
PEERS_PID=$!
exec 3<"$WORK/peers"
read -r -t 20 TCP_PORT UDP_PORT REFUSING_PORT RESETTING_PORT <&3 || {
  echo "the python peers did not start within 20 s:" >&2; cat "$WORK/peers.err" >&2; exit 1; }
exec 3<&-
[[ "$VERBOSE" == 1 ]] && echo "peers: tcp $TCP_PORT, udp $UDP_PORT, refusing $REFUSING_PORT, resetting $RESETTING_PORT"

passed=0
total=0
# result NAME OK OUTPUT: records one case.
result() {
  total=$((total + 1))
  if [[ "$2" == 1 ]]; then
    passed=$((passed + 1))
    echo "PASS $1"
    [[ "$VERBOSE" == 1 ]] && sed 's/^/    /' <<<"$3"
  else
    echo "FAIL $1"
    sed 's/^/    /' <<<"$3"
  fi
  return 0
}

# case NAME WANT_EXIT 'GREP...' -- CUMULUS_RUN_ARGS...: runs `cumulus run`, expects the exit code
# and every grep pattern (extended regex, one per word before --) in stdout. Baseline tier: a
# background optimized compile would only be killed when the short run exits.
case_() {
  local name="$1" want="$2"
  shift 2
  local patterns=()
  while [[ "$1" != "--" ]]; do patterns+=("$1"); shift; done
  shift
  local out code=0
  out="$(timeout "$TIMEOUT" "$CUMULUS" run "$WASM" --tier baseline "$@" 2>&1)" || code=$?
  local ok=1
  [[ "$code" == "$want" ]] || ok=0
  for p in "${patterns[@]}"; do grep -Eq -- "$p" <<<"$out" || ok=0; done
  result "$name" "$ok" "$out"$'\n'"(exit $code, want $want)"
}

LOOP="127.0.0.1"
case_ tcp-echo 0 "^echo: hello over wasi:sockets$" "^remote-address $LOOP:$TCP_PORT$" "^PASSED$" -- \
  --allow-socket "$LOOP:$TCP_PORT" -- tcp-echo "$TCP_PORT"
case_ tcp-bulk-8MiB 0 "^bulk: sent 8388608, received 8388608$" "^PASSED$" -- \
  --allow-socket "$LOOP:*" -- tcp-bulk "$TCP_PORT" 8388608
case_ tcp-reset 0 "^write: failed$" "^PASSED$" -- \
  --allow-socket "$LOOP:$RESETTING_PORT" -- tcp-reset "$RESETTING_PORT"
case_ tcp-port-outside-allow-list 0 "^connect: access-denied$" -- \
  --allow-socket "$LOOP:$TCP_PORT" -- connect-fails "$REFUSING_PORT" access-denied
case_ tcp-host-outside-allow-list 0 "^connect: access-denied$" -- \
  --allow-socket "10.0.0.1:*" -- connect-fails "$TCP_PORT" access-denied
case_ tcp-connection-refused 0 "^connect: connection-refused$" -- \
  --allow-socket "$LOOP:*" -- connect-fails "$REFUSING_PORT" connection-refused
case_ tcp-ipv6 0 "^(client remote-address \[0:0:0:0:0:0:0:1\]:[0-9]+|ipv6 unavailable)$" "^PASSED$" -- \
  --allow-socket "[::1]:*" -- tcp-self6
case_ udp-echo 0 "^reply: ping 1 from $UDP_PORT$" "^reply: ping 2 from $UDP_PORT$" "^PASSED$" -- \
  --allow-socket "$LOOP:$UDP_PORT" --allow-socket "$LOOP:0" -- udp-echo "$UDP_PORT"
case_ udp-port-outside-allow-list 0 "^udp send: access-denied$" -- \
  --allow-socket "$LOOP:$UDP_PORT" --allow-socket "$LOOP:0" -- udp-send-fails "$TCP_PORT" access-denied
case_ lookup-localhost 0 "^address (127\.0\.0\.1|0:0:0:0:0:0:0:1)$" "^PASSED$" -- \
  --allow-socket "$LOOP:*" -- lookup localhost
case_ lookup-ip-literal 0 "^address 127\.0\.0\.1$" -- --allow-socket "$LOOP:*" -- lookup 127.0.0.1
case_ nothing-allowed 0 "^create-tcp-socket: access-denied$" "^create-udp-socket: access-denied$" \
  "^resolve-addresses: access-denied$" -- -- denied
case_ nothing-allowed-connect-fails 1 "^create-tcp-socket: access-denied" "^FAILED$" -- \
  -- tcp-echo "$TCP_PORT"
case_ bad-args 0 "^PASSED$" -- --allow-socket "$LOOP:*" -- bad-args

# tcp-listen: the guest prints its port, a python client connects, sends, half-closes and reads
# the echo back.
mkfifo "$WORK/listen"
timeout "$TIMEOUT" "$CUMULUS" run "$WASM" --tier baseline --allow-socket "$LOOP:*" -- tcp-listen \
  >"$WORK/listen" 2>&1 &
GUEST_PID=$!
exec 4<"$WORK/listen"
out=""
port=""
while IFS= read -r -t "$TIMEOUT" line <&4; do
  out+="$line"$'\n'
  if [[ "$line" =~ ^listening\ on\ ([0-9]+)$ ]]; then port="${BASH_REMATCH[1]}"; break; fi
done
client=""
if [[ -n "$port" ]]; then
  client="$(python3 - "$port" <<'PY' 2>&1 || true
import socket, sys
msg = b"hello from the host side\n" * 1000
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30) as s:
    s.sendall(msg)
    s.shutdown(socket.SHUT_WR)
    got = b""
    while data := s.recv(65536):
        got += data
print("client: echo intact" if got == msg else f"client: echo differs ({len(got)} of {len(msg)} bytes)")
PY
)"
fi
out+="$(timeout "$TIMEOUT" cat <&4)"$'\n'"$client"
exec 4<&-
code=0
wait "$GUEST_PID" || code=$?
ok=0
[[ "$code" == 0 && "$client" == "client: echo intact" ]] && grep -q "^accepted from $LOOP$" <<<"$out" &&
  grep -q "^echoed 25000 bytes$" <<<"$out" && ok=1
result tcp-listen "$ok" "$out"$'\n'"(exit $code, want 0)"

echo "$passed/$total"
[[ "$passed" == "$total" ]]
