#!/usr/bin/env python3
"""Extracts the top-level core modules (section id 1) of a WebAssembly component binary.

Usage: extract_core_modules.py COMPONENT.wasm OUTDIR  -> OUTDIR/core0.wasm, core1.wasm, ...
Used by the engine benchmarks to time a real component's core module until the component layer
exists; it only walks the top-level section framing (id byte, LEB128 size, payload)."""
import os
import sys


def leb128(data, pos):
    result = shift = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return result, pos


def main():
    src, out = sys.argv[1], sys.argv[2]
    data = open(src, "rb").read()
    if data[:4] != b"\0asm" or data[6:8] != b"\x01\x00":
        sys.exit(f"{src}: not a component (layer {data[6:8].hex()})")
    os.makedirs(out, exist_ok=True)
    pos, n = 8, 0
    while pos < len(data):
        sid = data[pos]
        size, pos = leb128(data, pos + 1)
        if sid == 1:
            path = os.path.join(out, f"core{n}.wasm")
            open(path, "wb").write(data[pos:pos + size])
            print(f"{path} {size}")
            n += 1
        pos += size


if __name__ == "__main__":
    main()
