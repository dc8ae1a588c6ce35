#!/usr/bin/env bash
# Configures and builds Cumulus into build/ (RelWithDebInfo) or, with --asan, build-asan/.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--asan" ]]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCUMULUS_SANITIZE=ON >/dev/null
  ninja -C build-asan engine_tests
else
  cmake -S . -B build -G Ninja >/dev/null
  ninja -C build
fi
