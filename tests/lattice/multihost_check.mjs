// Three hosts in one lattice, checked by an independent client (the `nats` npm package, curl):
// a component chain whose links cross hosts over wRPC; invocations of a component running on two
// hosts shared between them (NATS queue groups); a graceful host stop under traffic losing no
// request; a host killed with SIGKILL (the survivor serves everything after it); a NATS server
// restart (hosts reconnect, links and config survive in JetStream KV, traffic resumes).
// HTTP for a component on another host is forwarded over wrpc:http (bodies streamed both ways).
// Usage: node multihost_check.mjs CUMULUS NODE_MODULES_DIR WASH_FIXTURES_DIR [TEST_COMPONENTS_DIR]
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { uniqueLattice, Checker, children, ctl, eventLog, freePort, stopAll, loadNats, sleep, startNats, until } from "./harness.mjs";

const [cumulus, modulesDir, fixtures, testComponents] = process.argv.slice(2);
const nats = loadNats(modulesDir);
const t = new Checker();
const lattice = uniqueLattice("multihost");
const P = `wasmbus.ctl.v1.${lattice}`;
const stateDir = mkdtempSync(path.join(tmpdir(), "cumulus-multihost-test-"));
const fixture = (name) => `file://${path.join(fixtures, name)}`;

function curl(url) {
  try {
    const out = execFileSync("curl", ["-s", "-m", "30", "-o", "-", "-w", "\n%{http_code}", url]).toString();
    return Number(out.slice(out.lastIndexOf("\n") + 1));
  } catch {
    return 0;
  }
}

// A host whose stderr (debug log) is kept: wasi:logging lines show which host ran an invocation.
function startHost(url, zone) {
  const c = spawn(cumulus, ["--log", "debug", "host", "--lattice", lattice, "--nats-url", url, "--label", `zone=${zone}`,
                            "--allow-file-load", "true"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  c.log = "";
  c.stdout.on("data", (d) => { out += d; });
  c.stderr.on("data", (d) => { c.log += d; });
  children.push(c);
  c.idPromise = until("host start line", () => (out.match(/^host (N[A-Z2-7]{55}) /m) || [])[1], 20000);
  c.exited = new Promise((r) => c.on("exit", (code) => r(code)));
  return c;
}
const invocations = (h, component) => (h.log.match(new RegExp(`component ${component} \\S+: invoke`, "g")) || []).length;

async function scale(nc, ev, hostId, id, file, count = 4) {
  await ctl(nc, `${P}.component.scale.${hostId}`, { component_ref: fixture(file), component_id: id, count });
  await ev.find("component_scaled", (d) => d.component_id === id && d.host_id === hostId, 30000);
}

async function main() {
  let { url, nc, port: natsPort, proc: natsProc } = await startNats(nats, stateDir);
  const ev = eventLog(nc, lattice);
  await nc.flush();
  const [h1, h2, h3] = [startHost(url, "a"), startHost(url, "b"), startHost(url, "c")];
  const [id1, id2, id3] = [await h1.idPromise, await h2.idPromise, await h3.idPromise];

  // caller + http-server on h1; middleware on h2; callee on h3: both links cross hosts.
  await scale(nc, ev, id1, "caller", "inter_component_call_caller.wasm");
  await scale(nc, ev, id2, "middleware", "inter_component_call_middleware.wasm");
  await scale(nc, ev, id3, "callee", "inter_component_call_callee.wasm");
  await ctl(nc, `${P}.link.put`, { source_id: "caller", target: "middleware", wit_namespace: "wasmcloud", wit_package: "example", interfaces: ["middleware"] });
  await ctl(nc, `${P}.link.put`, { source_id: "middleware", target: "callee", wit_namespace: "wasmcloud", wit_package: "example", interfaces: ["receiver"] });
  const port = await freePort();
  await ctl(nc, `${P}.config.put.http-addr`, { address: `127.0.0.1:${port}` });
  await ctl(nc, `${P}.provider.start.${id1}`, { provider_id: "http", provider_ref: "wasmcloud+builtin://http-server" });
  await ctl(nc, `${P}.link.put`, { source_id: "http", target: "caller", wit_namespace: "wasi", wit_package: "http",
                                   interfaces: ["incoming-handler"], source_config: ["http-addr"] });
  const first = await until("chain over HTTP", () => { const s = curl(`http://127.0.0.1:${port}/`); return s !== 0 && s; });
  t.check(first === 200, `caller (h1) -> middleware (h2) -> callee (h3) over wRPC: ${first}`);
  await until("middleware log on h2", () => invocations(h2, "middleware") > 0 && invocations(h3, "callee") > 0, 5000).catch(() => {});
  t.check(invocations(h2, "middleware") >= 1 && invocations(h3, "callee") >= 1, "each hop ran on its own host");

  // The same component on two hosts shares the invocations (queue group {lattice}.{id}).
  await scale(nc, ev, id3, "middleware", "inter_component_call_middleware.wasm");
  await scale(nc, ev, id2, "callee", "inter_component_call_callee.wasm");
  const before2 = invocations(h2, "middleware"), before3 = invocations(h3, "middleware");
  let ok = 0;
  for (let i = 0; i < 40; i++) if (curl(`http://127.0.0.1:${port}/`) === 200) ok++;
  await sleep(300);
  const n2 = invocations(h2, "middleware") - before2, n3 = invocations(h3, "middleware") - before3;
  t.check(ok === 40, `40 requests with middleware on two hosts: ${ok} succeeded`);
  t.check(n2 > 0 && n3 > 0 && n2 + n3 === 40, `both hosts served middleware calls (h2 ${n2}, h3 ${n3})`);

  // HTTP for components on another host: the http-server on h1 forwards over wrpc:http to h2.
  await ctl(nc, `${P}.component.scale.${id2}`, { component_ref: fixture("http_hello_world_rust.wasm"), component_id: "hello-remote", count: 4 });
  await ev.find("component_scaled", (d) => d.component_id === "hello-remote", 30000);
  const remotePort = await freePort();
  await ctl(nc, `${P}.config.put.remote-addr`, { address: `127.0.0.1:${remotePort}` });
  await ctl(nc, `${P}.link.put`, { source_id: "http", target: "hello-remote", name: "remote", wit_namespace: "wasi",
                                   wit_package: "http", interfaces: ["incoming-handler"], source_config: ["remote-addr"] });
  const remote = await until("remote hello", () => {
    try {
      const out = execFileSync("curl", ["-s", "-m", "15", `http://127.0.0.1:${remotePort}/`]).toString();
      return out || null;
    } catch { return null; }
  });
  t.check(remote === "Hello from Rust!\n", `HTTP on h1 for a component on h2 (wrpc:http): ${JSON.stringify(remote)}`);
  const echoWasm = testComponents && path.join(testComponents, "test_handler.wasm");
  if (echoWasm && existsSync(echoWasm)) {
    await ctl(nc, `${P}.component.scale.${id2}`, { component_ref: `file://${echoWasm}`, component_id: "echo", count: 4 });
    await ev.find("component_scaled", (d) => d.component_id === "echo", 30000);
    const echoPort = await freePort();
    await ctl(nc, `${P}.config.put.echo-addr`, { address: `127.0.0.1:${echoPort}` });
    await ctl(nc, `${P}.link.put`, { source_id: "http", target: "echo", name: "echo", wit_namespace: "wasi",
                                     wit_package: "http", interfaces: ["incoming-handler"], source_config: ["echo-addr"] });
    const payload = randomBytes(3 << 20);
    const inFile = path.join(stateDir, "payload.bin"), outFile = path.join(stateDir, "echoed.bin");
    writeFileSync(inFile, payload);
    const code = await until("echo over wrpc:http", () => {
      try {
        return execFileSync("curl", ["-s", "-m", "60", "-o", outFile, "-w", "%{http_code}", "--data-binary", `@${inFile}`,
                                     `http://127.0.0.1:${echoPort}/echo`]).toString() === "200";
      } catch { return false; }
    }, 30000).catch(() => false);
    t.check(code && Buffer.compare(readFileSync(outFile), payload) === 0,
            "a 3 MiB body streamed to a component on another host and back, byte for byte");
  } else {
    console.log("skip echo over wrpc:http: no test_handler.wasm (tests/http/build_components.sh)");
  }

  // Graceful stop of h3 under traffic: no request lost.
  let running = true, sent = 0, failed = 0;
  const traffic = (async () => {
    while (running) { sent++; if (curl(`http://127.0.0.1:${port}/`) !== 200) failed++; await sleep(5); }
  })();
  await sleep(300);
  await ctl(nc, `${P}.host.stop.${id3}`, { timeout: 5000 });
  t.check((await h3.exited) === 0, "h3 stopped gracefully");
  await sleep(500);
  running = false;
  await traffic;
  t.check(failed === 0 && sent > 10, `traffic across a graceful host stop: ${failed} of ${sent} failed`);

  // h4 takes h3's place; then h4 is killed with SIGKILL: h2 serves everything afterwards.
  const h4 = startHost(url, "d");
  const id4 = await h4.idPromise;
  await scale(nc, ev, id4, "middleware", "inter_component_call_middleware.wasm");
  h4.kill("SIGKILL");
  await h4.exited;
  ok = 0;
  const codes = [];
  for (let i = 0; i < 20; i++) {
    const t0 = Date.now();
    const code = curl(`http://127.0.0.1:${port}/`);
    codes.push(`${code}/${Date.now() - t0}ms`);
    if (code === 200) ok++;
  }
  if (!t.check(ok === 20, `after SIGKILL of a host, the survivor serves: ${ok}/20`)) {
    console.log(`  status/time per request: ${codes.join(" ")}`);
    for (const [name, h] of [["h1", h1], ["h2", h2]]) {
      console.log(`  ${name} log tail:\n${h.log.split("\n").filter((l) => !/ debug /.test(l)).slice(-15).join("\n")}`);
    }
  }

  // NATS restart: hosts reconnect; KV state is on disk; traffic resumes.
  natsProc.kill("SIGTERM");
  await natsProc.exited;
  await sleep(300);
  ({ proc: natsProc } = await startNats(nats, stateDir, natsPort));
  const back = await until("chain after NATS restart", () => curl(`http://127.0.0.1:${port}/`) === 200, 30000).catch(() => false);
  t.check(back === true, "after a NATS restart the chain answers again");
  const links = await until("link.get after restart", async () => {
    try { return await ctl(nc, `${P}.link.get`, undefined, 2000); } catch { return null; }
  }, 20000);
  t.check(links.success && links.response.length >= 4, `links survive the NATS restart (${links.response.length})`);
  const cfg = await ctl(nc, `${P}.config.get.http-addr`);
  t.check(cfg.response && cfg.response.address === `127.0.0.1:${port}`, "config survives the NATS restart");

  for (const [h, id] of [[h1, id1], [h2, id2]]) {
    await ctl(nc, `${P}.host.stop.${id}`, {});
    t.check((await h.exited) === 0, "host stops cleanly");
  }
  await nc.close();
}

main().catch((e) => { console.log(`FAIL ${e.stack || e}`); t.failures++; }).finally(async () => {
  await stopAll(stateDir);
  console.log(t.failures ? `${t.failures} check(s) failed` : "all multi-host checks passed");
  process.exit(t.failures ? 1 : 0);
});
