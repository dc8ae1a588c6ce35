// node_wasi_run.mjs - run a wasm32-wasi command module (.wasm) under node's
// built-in WASI (preview1). The program's own output goes to stdout; the
// time spent in wasi.start(instance) only (not file reading, compilation
// or instantiation) is printed to stderr as "elapsed_ms=<float>".
// Usage: node node_wasi_run.mjs FILE.wasm [program args...]
// Exit status: the program's exit code (or 1 on a trap/loader error).
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';

// node:wasi prints an "experimental feature" warning to stderr when loaded;
// drop the default warning printer before (dynamically) importing it.
process.removeAllListeners('warning');
const { WASI } = await import('node:wasi');

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node node_wasi_run.mjs FILE.wasm [args...]\n');
  process.exit(2);
}

const wasi = new WASI({
  version: 'preview1',
  args: [basename(file, '.wasm'), ...process.argv.slice(3)],
  env: {},
  returnOnExit: true, // proc_exit() returns the code instead of killing node
});

// Wrap every WASI import in a plain JS function. Imported directly, node's
// WASI functions are invoked from wasm through V8's "fast API call" path, and
// node v20 can crash there (SIGSEGV / V8 heap corruption after the program's
// output was written) when a GC is triggered inside the call - seen here
// reliably with the programs that grow memory to tens of MB (sort, memory).
// Known node bug family: nodejs/node#46777, nodejs/node#53087. The wrapper
// forces the regular (slow) call path; it only costs a little per syscall,
// and the benchmarks make just a handful of syscalls.
const imports = wasi.getImportObject();
for (const ns of Object.keys(imports)) {
  const wrapped = {};
  for (const [name, fn] of Object.entries(imports[ns])) {
    wrapped[name] = typeof fn === 'function'
      ? (...args) => Reflect.apply(fn, imports[ns], args)
      : fn;
  }
  imports[ns] = wrapped;
}

const module = await WebAssembly.compile(await readFile(file));
const instance = await WebAssembly.instantiate(module, imports);

let code;
const t0 = performance.now();
try {
  code = wasi.start(instance);
} catch (err) {
  const t1 = performance.now();
  process.stderr.write(`node_wasi_run: ${err && err.stack ? err.stack : err}\n`);
  process.stderr.write(`elapsed_ms=${(t1 - t0).toFixed(3)}\n`);
  process.exit(1);
}
const t1 = performance.now();
process.stderr.write(`elapsed_ms=${(t1 - t0).toFixed(3)}\n`);
process.exitCode = code ?? 0;
