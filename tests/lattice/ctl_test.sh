#!/usr/bin/env bash
# Lattice control interface end to end: two `cumulus host` processes on a nats-server started on
# a free loopback port, checked by an independent client (the `nats` npm package, installed into
# the build tree on first run). Exits 77 (skipped) when nats-server, node or the npm package is
# unavailable.
# Usage: ctl_test.sh --cumulus PATH --work DIR [--script NAME.mjs] [--fixtures DIR]
#                    [--test-components DIR]
# (the script defaults to ctl_check.mjs; --fixtures is passed on to scripts that run components;
# --test-components builds tests/http/components into DIR and passes it on)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cumulus="" work="" script=ctl_check.mjs fixtures="" components=""
while (($#)); do
  case $1 in
    --cumulus) cumulus=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --script) script=$2; shift 2 ;;
    --fixtures) fixtures=$2; shift 2 ;;
    --test-components) components=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
command -v nats-server >/dev/null || { echo "skip: nats-server not installed (scripts/deps.sh)"; exit 77; }
command -v node >/dev/null && command -v npm >/dev/null || { echo "skip: node/npm missing"; exit 77; }
mkdir -p "$work"
# Several lattice tests share $work and may start together (ctest -j): one installs, the others
# wait on the lock and find it installed.
install_nats() {
  [[ -f $work/node_modules/nats/package.json ]] ||
    (cd "$work" && npm install --no-audit --no-fund --silent nats@2 >/dev/null 2>&1)
}
(flock 9 && install_nats) 9>"$work/.npm-install.lock" ||
  { echo "skip: npm install nats failed (offline?)"; exit 77; }
if [[ -n $fixtures ]]; then
  [[ -d $fixtures ]] || { echo "skip: fixtures not found at $fixtures"; exit 77; }
  fixtures=$(realpath "$fixtures")
fi
command -v curl >/dev/null || { echo "skip: curl missing"; exit 77; }
if [[ -n $components ]]; then
  "$here/../http/build_components.sh" "$components" >/dev/null || { echo "cannot build the HTTP test components"; exit 1; }
fi
exec node "$here/$script" "$cumulus" "$work/node_modules" $fixtures $components
