// Lattice benchmarks on loopback, one run (a real nats-server and `cumulus host`, driven by the
// `nats` npm client as wasmCloud's own clients would):
//   1. ctl round trip: host inventory request/reply, median and p99 over N requests;
//   2. scale -> first successful HTTP response, with the builtin http-server and its link already
//      in place: the Rust hello world and the StarlingMonkey JS handler (goals 50 ms and 5 s);
//   3. req/s (wrk) of an HTTP component calling a linked component that calls another
//      (inter_component_call_{caller,middleware,callee}): all in-process on one host vs the two
//      linked components on a second host (two wRPC hops per request), same run.
// Usage: node lattice_bench.mjs CUMULUS NODE_MODULES_DIR FIXTURES_DIR [--requests N]
import { execFileSync } from "node:child_process";
import http from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ctl, eventLog, freePort, stopAll, loadNats, startHost, startNats } from "../../tests/lattice/harness.mjs";

const [cumulus, modulesDir, fixtures, ...rest] = process.argv.slice(2);
const requests = Number(rest[rest.indexOf("--requests") + 1] || 1000);
const nats = loadNats(modulesDir);
const lattice = "bench";
const P = `wasmbus.ctl.v1.${lattice}`;
const stateDir = mkdtempSync(path.join(tmpdir(), "cumulus-lattice-bench-"));

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

function get(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      let body = "";
      res.on("data", (d) => { body += d; });
      res.on("end", () => resolve([res.statusCode, body]));
    });
    req.on("error", () => resolve([0, ""]));
  });
}

async function main() {
  const { url, nc } = await startNats(nats, stateDir);
  const ev = eventLog(nc, lattice);
  const h = startHost(cumulus, url, lattice, ["--allow-file-load", "true"]);
  const id = await h.idPromise;

  // 1. ctl round trip
  for (let i = 0; i < 50; i++) await ctl(nc, `${P}.host.get.${id}`);
  const rtt = [];
  for (let i = 0; i < requests; i++) {
    const t0 = process.hrtime.bigint();
    await ctl(nc, `${P}.host.get.${id}`);
    rtt.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  console.log(`ctl inventory round trip: median ${pct(rtt, 0.5).toFixed(0)} us, p99 ${pct(rtt, 0.99).toFixed(0)} us (${requests} requests)`);

  // 2. scale -> first 200
  await ctl(nc, `${P}.provider.start.${id}`, { provider_id: "http", provider_ref: "wasmcloud+builtin://http-server" });
  const cases = [
    ["rust", "components/wasmcloud-wash/http_hello_world_rust.wasm", 50],
    ["js", "toolchains/js-http/hello.component.wasm", 5000],
  ];
  for (const [name, file, goal] of cases) {
    const port = await freePort();
    await ctl(nc, `${P}.config.put.${name}-http`, { address: `127.0.0.1:${port}` });
    await ctl(nc, `${P}.link.put`, { source_id: "http", target: name, name, wit_namespace: "wasi", wit_package: "http",
                                     interfaces: ["incoming-handler"], source_config: [`${name}-http`] });
    const t0 = performance.now();
    const r = await ctl(nc, `${P}.component.scale.${id}`, { component_ref: `file://${path.join(fixtures, file)}`, component_id: name, count: 100 });
    if (!r.success) throw new Error(`scale ${name}: ${r.message}`);
    let status = 0;
    while (status !== 200) {
      [status] = await get(`http://127.0.0.1:${port}/`);
      if (status !== 200) {
        if (ev.count("component_scale_failed", (d) => d.component_id === name)) throw new Error(`scale ${name} failed`);
        if (performance.now() - t0 > 600000) throw new Error(`${name}: no answer in 10 minutes`);
        await new Promise((res) => setTimeout(res, 1));
      }
    }
    const ms = performance.now() - t0;
    console.log(`scale -> first 200 (${name}): ${ms.toFixed(1)} ms (goal <= ${goal} ms: ${ms <= goal ? "met" : "missed"})`);
  }
  // 3. linked calls: in-process vs across hosts over wRPC
  const h2 = startHost(cumulus, url, lattice, ["--allow-file-load", "true"]);
  const id2 = await h2.idPromise;
  const fixture = (f) => `file://${path.join(fixtures, "components/wasmcloud-wash", f)}`;
  const chains = [["local", id, id], ["remote", id, id2]];
  const results = {};
  for (const [name, callerHost, restHost] of chains) {
    const ids = { caller: `caller-${name}`, middleware: `middleware-${name}`, callee: `callee-${name}` };
    for (const [role, host] of [["caller", callerHost], ["middleware", restHost], ["callee", restHost]]) {
      await ctl(nc, `${P}.component.scale.${host}`, { component_ref: fixture(`inter_component_call_${role}.wasm`), component_id: ids[role], count: 64 });
      await ev.find("component_scaled", (d) => d.component_id === ids[role], 60000);
    }
    await ctl(nc, `${P}.link.put`, { source_id: ids.caller, target: ids.middleware, wit_namespace: "wasmcloud", wit_package: "example", interfaces: ["middleware"] });
    await ctl(nc, `${P}.link.put`, { source_id: ids.middleware, target: ids.callee, wit_namespace: "wasmcloud", wit_package: "example", interfaces: ["receiver"] });
    const port = await freePort();
    await ctl(nc, `${P}.config.put.${name}-chain`, { address: `127.0.0.1:${port}` });
    await ctl(nc, `${P}.link.put`, { source_id: "http", target: ids.caller, name: `chain-${name}`, wit_namespace: "wasi", wit_package: "http",
                                     interfaces: ["incoming-handler"], source_config: [`${name}-chain`] });
    let status = 0;
    for (let i = 0; i < 2000 && status !== 200; i++) { [status] = await get(`http://127.0.0.1:${port}/`); if (status !== 200) await new Promise((res) => setTimeout(res, 5)); }
    if (status !== 200) throw new Error(`chain ${name} does not answer`);
    const out = execFileSync("wrk", ["-t2", "-c16", "-d5s", "--latency", `http://127.0.0.1:${port}/`]).toString();
    const rps = Number((out.match(/Requests\/sec:\s+([\d.]+)/) || [])[1]);
    const p50 = (out.match(/50%\s+(\S+)/) || [])[1];
    const p99 = (out.match(/99%\s+(\S+)/) || [])[1];
    const errors = (out.match(/Non-2xx or 3xx responses: (\d+)/) || [])[1] || "0";
    results[name] = rps;
    console.log(`linked chain ${name === "local" ? "in-process " : "over wRPC  "}: ${rps.toFixed(0)} req/s, p50 ${p50}, p99 ${p99}, non-2xx ${errors}`);
  }
  console.log(`wRPC / in-process req/s ratio: ${(results.remote / results.local).toFixed(2)}`);
  for (const [hh, hid] of [[h, id], [h2, id2]]) {
    await ctl(nc, `${P}.host.stop.${hid}`, {});
    await hh.exited;
  }
  await nc.close();
}

main().catch((e) => { console.error(e); process.exitCode = 1; }).finally(async () => {
  await stopAll(stateDir);
});
