#!/usr/bin/env bash
# Lattice benchmarks (bench/lattice/lattice_bench.mjs): ctl round trip, scale -> first HTTP
# response (Rust and JS). Installs the `nats` npm client into the build tree on first use.
# Usage: run_lattice_bench.sh [--cumulus PATH] [--requests N]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cumulus="$root/build/src/cli/cumulus"
args=()
while (($#)); do
  case $1 in
    --cumulus) cumulus=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
fixtures=$(realpath "$root/../shared/fixtures")
work="$root/build/lattice-npm"
mkdir -p "$work"
[[ -f $work/node_modules/nats/package.json ]] ||
  (cd "$work" && npm install --no-audit --no-fund --silent nats@2 >/dev/null)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
exec node "$here/lattice_bench.mjs" "$cumulus" "$work/node_modules" "$fixtures" "${args[@]}"
