#!/usr/bin/env bash
# The lattice CLI on the wire: `cumulus get|link|config|label|scale|start|stop|update|events`
# against a nats-server on a free loopback port and a responder impersonating a wasmCloud 1.x
# host, written with the `nats` npm package (installed into the build tree on first run).
# Exits 77 (skipped) when nats-server, node or the npm package is unavailable.
# Usage: cli_wire_test.sh --cumulus PATH --work DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cumulus="" work=""
while (($#)); do
  case $1 in
    --cumulus) cumulus=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
command -v nats-server >/dev/null || { echo "skip: nats-server not installed (scripts/deps.sh)"; exit 77; }
command -v node >/dev/null && command -v npm >/dev/null || { echo "skip: node/npm missing"; exit 77; }
mkdir -p "$work"
if [[ ! -f $work/node_modules/nats/package.json ]]; then
  (cd "$work" && npm install --no-audit --no-fund --silent nats@2 >/dev/null 2>&1) ||
    { echo "skip: npm install nats failed (offline?)"; exit 77; }
fi
exec node "$here/cli_wire_check.mjs" "$cumulus" "$work/node_modules"
