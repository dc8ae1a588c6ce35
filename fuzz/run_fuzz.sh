#!/usr/bin/env bash
# Builds the libFuzzer target with clang and fuzzes module loading + instantiation for SECONDS
# (default 60). Seeds: the spec suite's modules. A crash is copied to fuzz/regressions/, which the
# engine tests replay on every run (FuzzRegressions.*).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SECONDS_TO_RUN="${1:-60}"
cd "$ROOT"
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCUMULUS_FUZZ=ON -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" >/dev/null
# A build failure (clang is stricter than gcc in places) must show its compiler messages.
if ! build_log="$(ninja -C build-fuzz fuzz_module fuzz_component 2>&1)"; then
  grep -v '^\[' <<<"$build_log" | head -60 >&2
  echo "fuzz: the clang build of the fuzz targets failed" >&2
  exit 1
fi
CORPUS="$ROOT/build-fuzz/corpus"
mkdir -p "$CORPUS" "$ROOT/build-fuzz/artifacts"
if [[ -z "$(ls -A "$CORPUS")" ]]; then
  mapfile -t seeds < <(find "$ROOT/build/spec-json" -name '*.wasm' -size -8k 2>/dev/null | sort)
  ((${#seeds[@]})) && cp -t "$CORPUS" "${seeds[@]:0:400}"
  cp "$ROOT"/fuzz/regressions/* "$CORPUS"/ 2>/dev/null || true
fi
export CUMULUS_CACHE_DIR="$ROOT/build-fuzz/cache" CUMULUS_LOG=off
export ASAN_OPTIONS="detect_leaks=0:handle_segv=1:allow_user_segv_handler=1"
status=0
build-fuzz/fuzz/fuzz_module "$CORPUS" -max_total_time="$SECONDS_TO_RUN" -timeout=10 -rss_limit_mb=4096 \
  -artifact_prefix="$ROOT/build-fuzz/artifacts/" -print_final_stats=1 >"$ROOT/build-fuzz/fuzz.log" 2>&1 || status=$?
tail -8 "$ROOT/build-fuzz/fuzz.log"
# On a crash, show the sanitizer's report (the log's tail is only statistics).
grep -A40 -m1 -E "^==[0-9]+==ERROR|deadly signal" "$ROOT/build-fuzz/fuzz.log" | head -60 || true
# The component decoder: seeded with the compiled component-model tests, half the time.
CCORPUS="$ROOT/build-fuzz/corpus-component"
mkdir -p "$CCORPUS"
if [[ -z "$(ls -A "$CCORPUS")" ]]; then
  mapfile -t cseeds < <(find "$ROOT/../shared/fixtures/component-model/compiled/component" -name '*.wasm' -size -16k 2>/dev/null | sort)
  ((${#cseeds[@]})) && cp -t "$CCORPUS" "${cseeds[@]:0:300}"
fi
build-fuzz/fuzz/fuzz_component "$CCORPUS" -max_total_time="$((SECONDS_TO_RUN / 2 + 1))" -timeout=10 -rss_limit_mb=4096 \
  -artifact_prefix="$ROOT/build-fuzz/artifacts/" -print_final_stats=1 >"$ROOT/build-fuzz/fuzz-component.log" 2>&1 || status=$?
tail -3 "$ROOT/build-fuzz/fuzz-component.log"
grep -A40 -m1 -E "^==[0-9]+==ERROR|deadly signal" "$ROOT/build-fuzz/fuzz-component.log" | head -60 || true
# crash-*, oom-* and timeout-* inputs alike: the engine and component tests replay them all.
shopt -s nullglob
found=("$ROOT"/build-fuzz/artifacts/{crash,oom,timeout}-*)
if ((${#found[@]})); then
  cp "${found[@]}" "$ROOT/fuzz/regressions/"
  echo "fuzz: a crash, out-of-memory or timeout was found; copied to fuzz/regressions/ (add it to git as a regression test)" >&2
  exit 1
fi
exit $status
