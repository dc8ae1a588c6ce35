// Lattice benchmarks on loopback, one run (a real nats-server and `cumulus host`, driven by the
// `nats` npm client as wasmCloud's own clients would):
//   1. ctl round trip: host inventory request/reply, median and p99 over N requests;
//   2. scale -> first successful HTTP response, with the builtin http-server and its link already
//      in place: the Rust hello world and the StarlingMonkey JS handler (goals 50 ms and 5 s);
// Usage: node lattice_bench.mjs CUMULUS NODE_MODULES_DIR FIXTURES_DIR [--requests N]
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ctl, eventLog, freePort, killAll, loadNats, startHost, startNats } from "../../tests/lattice/harness.mjs";

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
  await ctl(nc, `${P}.host.stop.${id}`, {});
  await h.exited;
  await nc.close();
}

main().catch((e) => { console.error(e); process.exitCode = 1; }).finally(() => {
  killAll();
  rmSync(stateDir, { recursive: true, force: true });
});
