#!/usr/bin/env bash
# Runs the wasi-testsuite programs (../shared/fixtures/wasi-testsuite-p2: the suite's wasip1 tests
# for C, Rust and AssemblyScript, made WASI 0.2 command components with jco's preview1 adapter) with
# `cumulus run`, following the suite's runner specification (doc/specification.md there):
#  - every `X.wasm` is a test; `X.json` (optional) gives args, env, `root` and the expected exit
#    code, stdout and stderr, either as the legacy keys or as `operations` (run/read/wait);
#  - `root` is copied to a scratch directory (the tests write into it, and the fixtures are
#    read-only) and preopened as the guest's `/`; the environment is exactly `env`;
#  - a `read` expects the stream to begin with its payload (the reference runner reads that many
#    characters and compares), `wait` the exit code.
# Prints PASS/FAIL per test and `passed/total`. Exits non-zero when a test fails that is not in
# tests/conformance/wasi_testsuite_skip.txt, or when a listed test unexpectedly passes.
#   tests/conformance/run_wasi_testsuite.sh [--cumulus PATH] [--jobs N] [--verbose] [NAME...]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SUITE="${CUMULUS_WASI_TESTSUITE_DIR:-$ROOT/../shared/fixtures/wasi-testsuite-p2}"
CUMULUS="${CUMULUS:-$ROOT/build/src/cli/cumulus}"
SKIP_LIST="$ROOT/tests/conformance/wasi_testsuite_skip.txt"
JOBS="$(nproc 2>/dev/null || echo 1)"
TIMEOUT=120
VERBOSE=0
ONLY=()
while (($#)); do
  case "$1" in
    --cumulus) CUMULUS="$2"; shift 2 ;;
    --jobs) JOBS="$2"; shift 2 ;;
    --verbose) VERBOSE=1; shift ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) ONLY+=("$1"); shift ;;
  esac
done
[[ -x "$CUMULUS" ]] || { echo "no cumulus binary at $CUMULUS (build it, or pass --cumulus)" >&2; exit 2; }
[[ -d "$SUITE" ]] || { echo "no wasi-testsuite at $SUITE" >&2; exit 2; }
CUMULUS="$(cd "$(dirname "$CUMULUS")" && pwd)/$(basename "$CUMULUS")"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cumulus-wasi-testsuite.XXXXXX")"
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT

# Turns a test's JSON (or its absence) into files in the test's scratch directory: `argv` (the
# arguments after the component, NUL-separated), `want_stdout`, `want_stderr`; and prints
# `exit <code>` and `root <relative path>` (or `unsupported <operation>`).
plan() {
  python3 - "$1" "$2" <<'PY'
import json, os, sys
path, out = sys.argv[1], sys.argv[2]
config = json.load(open(path)) if os.path.exists(path) else {}
if "operations" in config:
    ops = config["operations"]
else:  # the legacy keys, as the reference runner converts them
    ops = [{"type": "run", "args": config.get("args", []), "env": config.get("env", {}),
            "root": config.get("root")}]
    for stream in ("stdout", "stderr"):
        if config.get(stream):
            ops.append({"type": "read", "id": stream, "payload": config[stream]})
    ops.append({"type": "wait", "exit_code": config.get("exit_code", 0)})
run, exit_code, reads = {}, 0, {"stdout": "", "stderr": ""}
for op in ops:
    kind = op.get("type")
    if kind == "run":
        run = op
    elif kind == "wait":
        exit_code = op.get("exit_code", 0)
    elif kind == "read":
        reads[op.get("id", "stdout")] += op.get("payload", "")
    else:
        print(f"unsupported {kind}")
        sys.exit(0)
argv = []
for k, v in run.get("env", {}).items():
    argv += ["--env", f"{k}={v}"]
argv += ["--"] + run.get("args", [])
open(os.path.join(out, "argv"), "wb").write(b"\0".join(a.encode() for a in argv))
for stream, payload in reads.items():
    open(os.path.join(out, "want_" + stream), "wb").write(payload.encode())
print(f"exit {exit_code}")
print("root " + (run.get("root") or ""))
PY
}

# Whether file $2 begins with the bytes of file $1.
starts_with() {
  cmp -s -n "$(stat -c %s "$1")" "$1" "$2"
}

# Runs one test (suite-relative path without .wasm); prints "PASS name" or "FAIL name: why".
run_one() {
  local name="$1" wasm="$SUITE/$1.wasm" json="$SUITE/$1.json" dir="$WORK/${1//\//_}"
  mkdir -p "$dir"
  local want_exit=0 root="" key value plan_out
  if ! plan_out="$(plan "$json" "$dir")"; then
    echo "FAIL $name: cannot read its specification $json"
    return
  fi
  while read -r key value; do
    case "$key" in
      exit) want_exit="$value" ;;
      root) root="$value" ;;
      unsupported) echo "FAIL $name: operation '$value' is not supported by this runner"; return ;;
    esac
  done <<<"$plan_out"
  local args=()
  mapfile -d '' -t args <"$dir/argv"
  local dirs=()
  if [[ -n "$root" ]]; then
    cp -r "$(dirname "$wasm")/$root" "$dir/root"
    chmod -R u+w "$dir/root"
    find "$dir/root" -name '*.cleanup' -exec rm -rf {} + 2>/dev/null || true
    dirs=(--dir "$dir/root::/")
  fi
  local status=0
  # Run from the scratch directory; the guest sees only the environment and preopen given here.
  (cd "$dir" && timeout "$TIMEOUT" \
     "$CUMULUS" run "$wasm" "${dirs[@]}" "${args[@]}" </dev/null >"$dir/stdout" 2>"$dir/stderr") ||
    status=$?
  local why=""
  if [[ "$status" != "$want_exit" ]]; then
    why="exit code $status, expected $want_exit"
  elif ! starts_with "$dir/want_stdout" "$dir/stdout"; then
    why="stdout does not start with the expected text"
  elif ! starts_with "$dir/want_stderr" "$dir/stderr"; then
    why="stderr does not start with the expected text"
  fi
  if [[ -z "$why" ]]; then
    echo "PASS $name"
  else
    local detail
    detail="$(tail -c 400 "$dir/stderr" | tr '\n' ' ')"
    echo "FAIL $name: $why${detail:+ | stderr: $detail}"
  fi
}
export -f run_one plan starts_with
export SUITE CUMULUS WORK TIMEOUT

tests=()
for lang in c rust assemblyscript; do
  for wasm in "$SUITE/$lang"/*.wasm; do
    name="$lang/$(basename "$wasm" .wasm)"
    if ((${#ONLY[@]})) && [[ " ${ONLY[*]} " != *" $name "* && " ${ONLY[*]} " != *" ${name#*/} "* ]]; then
      continue
    fi
    tests+=("$name")
  done
done

# shellcheck disable=SC2016  # $1 is expanded by the inner bash
results="$(printf '%s\n' "${tests[@]}" | xargs -P "$JOBS" -I{} bash -c 'run_one "$1"' _ {} | sort -k2)"

declare -A skipped=()
while IFS= read -r line; do
  [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
  read -r name reason <<<"$line"
  skipped["$name"]="$reason"
done <"$SKIP_LIST"

passed=0 total=0 unexpected=0
while IFS= read -r line; do
  [[ -z "$line" ]] && continue
  verdict="${line%% *}" rest="${line#* }" name="${line#* }"
  name="${name%%:*}"
  total=$((total + 1))
  if [[ "$verdict" == PASS ]]; then
    passed=$((passed + 1))
    if [[ -n "${skipped[$name]+x}" ]]; then
      echo "PASS $name (listed as an expected failure: remove it from the skip list)"
      unexpected=$((unexpected + 1))
    else
      echo "PASS $name"
    fi
  elif [[ -n "${skipped[$name]+x}" ]]; then
    echo "FAIL $name (expected: ${skipped[$name]})"
    ((VERBOSE)) && echo "     ${rest#*: }"
  else
    echo "FAIL $rest"
    unexpected=$((unexpected + 1))
  fi
done <<<"$results"

if ((${#ONLY[@]} == 0)); then
  for name in "${!skipped[@]}"; do
    if [[ " ${tests[*]} " != *" $name "* ]]; then
      echo "skip list names $name, which is not in the suite"
      unexpected=$((unexpected + 1))
    fi
  done
fi

echo "wasi-testsuite (WASI 0.2 via the preview1 adapter): $passed/$total passed"
((unexpected == 0))
