#!/usr/bin/env bash
# Every test: installs dependencies, builds (normal and ASan+UBSan), runs the unit tests, the
# conformance suites and a bounded fuzzing run. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"
scripts/deps.sh
scripts/build.sh
export CUMULUS_CACHE_DIR="$PWD/build/test-code-cache"
(cd build && ctest --output-on-failure -j2)
echo "== engine tests under AddressSanitizer + UndefinedBehaviorSanitizer"
scripts/build.sh --asan
ASAN_OPTIONS=detect_leaks=0:handle_segv=1:allow_user_segv_handler=1 \
  build-asan/tests/engine_tests --gtest_brief=1
echo "== fuzzing module loading + instantiation (bounded)"
fuzz/run_fuzz.sh 60
