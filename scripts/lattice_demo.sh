#!/usr/bin/env bash
# The lattice part of run.sh: `cumulus up -d` (nats-server with JetStream + a host), then the
# CLI deploys wasmCloud's Rust hello world and its component chain (caller -> middleware ->
# callee, linked in-process) behind the builtin http-server, curl shows them working, `cumulus
# call` invokes one over wRPC, and `cumulus down` stops everything.
# Usage: lattice_demo.sh CUMULUS FIXTURES_DIR
set -euo pipefail
cumulus=$1
wash=$(realpath "$2/components/wasmcloud-wash")
export CUMULUS_HOME
CUMULUS_HOME=$(mktemp -d /tmp/cumulus-demo-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
hello_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
http_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="nats://127.0.0.1:$port"
cleanup() { "$cumulus" down >/dev/null 2>&1 || true; rm -rf "$CUMULUS_HOME"; }
trap cleanup EXIT
run() { echo "\$ cumulus $*"; "$cumulus" "$@"; }

run up -d --nats-port "$port" --lattice demo
c=(--nats-url "$url" -x demo)
run get hosts "${c[@]}"
run start component "file://$wash/http_hello_world_rust.wasm" hello "${c[@]}"
for role in callee middleware caller; do
  run start component "file://$wash/inter_component_call_$role.wasm" "$role" --max-instances 8 "${c[@]}"
done
run link put caller middleware wasmcloud example --interface middleware "${c[@]}"
run link put middleware callee wasmcloud example --interface receiver "${c[@]}"
run start provider wasmcloud+builtin://http-server http "${c[@]}"
run config put demo-http "address=127.0.0.1:$http_port" "${c[@]}"
run link put http caller wasi http --interface incoming-handler --source-config demo-http "${c[@]}"
run config put hello-http "address=127.0.0.1:$hello_port" "${c[@]}"
run link put http hello wasi http --interface incoming-handler --source-config hello-http -l hello "${c[@]}"
run get links "${c[@]}"
for p in "$hello_port" "$http_port"; do
  echo "\$ curl -s http://127.0.0.1:$p/"
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$p/" -o /dev/null && break
    sleep 0.05
  done
  curl -s -w '(HTTP %{http_code})\n' "http://127.0.0.1:$p/"
done
run call hello wasi:http/incoming-handler.handle "${c[@]}"
host=$("$cumulus" get hosts "${c[@]}" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["hosts"][0]["id"])')
run get inventory "$host" "${c[@]}"
run down
trap - EXIT
rm -rf "$CUMULUS_HOME"
