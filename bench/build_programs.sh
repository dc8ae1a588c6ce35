#!/usr/bin/env bash
# build_programs.sh OUTDIR - compile every bench/programs/*.c benchmark twice:
#   natively:           clang-14 -O2                                   -> OUTDIR/native/NAME
#   wasm32-wasi module: clang-14 --target=wasm32-wasi --sysroot=/usr -O2 -> OUTDIR/wasm/NAME.wasm
# Installs the needed Debian packages with apt-get if (and only if) missing.
# Environment overrides: CLANG (default clang-14), CFLAGS_EXTRA (added to both).
set -euo pipefail

if [[ $# -ne 1 || "$1" == -* ]]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
OUTDIR=$1
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR="$SCRIPT_DIR/programs"
CLANG=${CLANG:-clang-14}
CFLAGS_EXTRA=${CFLAGS_EXTRA:-}

# clang-14 + lld-14 (wasm-ld) + wasi-libc (sysroot in /usr) are the toolchain.
# libclang-rt-14-dev-wasm32 provides libclang_rt.builtins-wasm32.a, which
# clang links into every wasm32-wasi program; without it linking fails with
# "cannot open .../lib/wasi/libclang_rt.builtins-wasm32.a".
PACKAGES=(clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32)

ensure_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    echo "build_programs: installing missing packages: ${missing[*]}" >&2
    local sudo=()
    [[ $(id -u) -ne 0 ]] && sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    if ! "${sudo[@]}" apt-get install -y "${missing[@]}"; then
        "${sudo[@]}" apt-get update
        "${sudo[@]}" apt-get install -y "${missing[@]}"
    fi
}

if command -v dpkg >/dev/null 2>&1; then
    ensure_packages
else
    echo "build_programs: dpkg not found, assuming the toolchain is installed" >&2
fi

mkdir -p "$OUTDIR/native" "$OUTDIR/wasm"

shopt -s nullglob
sources=("$SRC_DIR"/*.c)
if [[ ${#sources[@]} -eq 0 ]]; then
    echo "build_programs: no sources in $SRC_DIR" >&2
    exit 1
fi

failed=0
for src in "${sources[@]}"; do
    name=$(basename "$src" .c)
    # shellcheck disable=SC2086  # CFLAGS_EXTRA is intentionally word-split
    if ! "$CLANG" -O2 $CFLAGS_EXTRA -o "$OUTDIR/native/$name" "$src"; then
        echo "build_programs: native build of $name FAILED" >&2
        failed=1
    fi
    # shellcheck disable=SC2086
    if ! "$CLANG" --target=wasm32-wasi --sysroot=/usr -O2 $CFLAGS_EXTRA \
            -o "$OUTDIR/wasm/$name.wasm" "$src"; then
        echo "build_programs: wasm build of $name FAILED" >&2
        failed=1
    fi
done

if [[ $failed -ne 0 ]]; then
    exit 1
fi
echo "build_programs: built ${#sources[@]} programs into $OUTDIR/{native,wasm}" >&2
