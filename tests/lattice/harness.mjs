// Shared pieces of the lattice wire tests (independent of Cumulus code: only the `nats` npm
// client, child processes and curl): checks, polling with a deadline, a nats-server on a free
// loopback port, `cumulus host` processes, ctl requests and an event log.
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import path from "node:path";

export function loadNats(modulesDir) {
  const require = createRequire(path.join(path.resolve(modulesDir), "x.js"));
  return require("nats");
}

export class Checker {
  failures = 0;
  check(cond, what) {
    if (cond) console.log(`ok   ${what}`);
    else { console.log(`FAIL ${what}`); this.failures++; }
    return cond;
  }
}

export const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
export const keys = (o) => Object.keys(o).sort().join(",");
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// A lattice name unique to this run: tests sharing a machine (or a nats-server) never see each
// other's hosts.
export const uniqueLattice = (base) => `${base}-${process.pid}-${Date.now().toString(36)}`;

export function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

export async function until(what, fn, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export const children = [];

// Starts nats-server (JetStream in `stateDir`). Without `port` the server picks a free one itself
// (`-p -1`) and the test reads it from the server's log, so tests running side by side cannot
// race for a port; a restart passes the port it had.
export async function startNats(nats, stateDir, port) {
  const proc = spawn("nats-server", ["-js", "-a", "127.0.0.1", "-p", String(port || -1), "-sd", stateDir],
                     { stdio: ["ignore", "ignore", "pipe"] });
  children.push(proc);
  proc.exited = new Promise((r) => proc.on("exit", (code) => r(code)));
  let log = "";
  proc.stderr.on("data", (d) => { log += d; });
  port = port || Number(await until("nats-server's port",
    () => (log.match(/Listening for client connections on [\d.]+:(\d+)/) || [])[1]));
  const url = `nats://127.0.0.1:${port}`;
  const nc = await until("nats-server", async () => {
    try { return await nats.connect({ servers: url, reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 100 }); } catch { return null; }
  });
  return { url, port, proc, nc };
}

// Starts `cumulus host`; `child.idPromise` resolves to its host id once it printed it.
export function startHost(cumulus, url, lattice, extra = []) {
  const c = spawn(cumulus, ["host", "--lattice", lattice, "--nats-url", url, ...extra],
                  { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  c.log = "";  // its stderr (the host log), also passed through
  c.stdout.on("data", (d) => { out += d; });
  c.stderr.on("data", (d) => { c.log += d; process.stderr.write(d); });
  children.push(c);
  c.exited = new Promise((r) => c.on("exit", (code) => r(code)));
  let exitCode = null;
  c.exited.then((code) => { exitCode = code; });
  c.idPromise = until("host start line", () => {
    if (exitCode !== null) throw new Error(`cumulus host exited with ${exitCode} before it started`);
    return (out.match(/^host (N[A-Z2-7]{55}) /m) || [])[1];
  }, 30000);
  return c;
}

// A ctl request; the parsed JSON reply.
export async function ctl(nc, subject, body, timeout = 5000) {
  const data = body === undefined ? new Uint8Array()
    : new TextEncoder().encode(typeof body === "string" ? body : JSON.stringify(body));
  const m = await nc.request(subject, data, { timeout });
  return JSON.parse(new TextDecoder().decode(m.data));
}

// `ctl` again after a timeout, up to `attempts` times.
export async function ctlRetry(nc, subject, body, attempts, timeout) {
  for (let i = 1; ; i++) {
    try {
      return await ctl(nc, subject, body, timeout);
    } catch (e) {
      if (i >= attempts || !/TIMEOUT/.test(String(e))) throw e;
    }
  }
}

// Collects every lattice event; `find(type, pred)` polls for one.
export function eventLog(nc, lattice) {
  const events = [];
  const sub = nc.subscribe(`wasmbus.evt.${lattice}.>`);
  (async () => { for await (const m of sub) events.push({ subject: m.subject, ev: JSON.parse(new TextDecoder().decode(m.data)) }); })();
  return {
    events,
    // `since`: only events at or after this index of `events` (events.length before a request
    // finds only what that request caused).
    find: (type, pred = () => true, ms = 10000, since = 0) => until(`event ${type}`,
      () => events.slice(since).find((e) => e.ev.type === `com.wasmcloud.lattice.${type}` && pred(e.ev.data, e.ev)), ms),
    count: (type, pred = () => true) => events.filter((e) => e.ev.type === `com.wasmcloud.lattice.${type}` && pred(e.ev.data)).length,
  };
}

// Stops every child (SIGTERM; SIGKILL after 10 s), waits until they have exited, then removes
// `stateDir`: removing it while nats-server still writes its store fails (ENOTEMPTY).
export async function stopAll(stateDir, others = []) {
  const live = [...children, ...others].filter((c) => c.exitCode === null && c.signalCode === null);
  const exits = live.map((c) => new Promise((r) => { c.once("exit", r); if (c.exitCode !== null || c.signalCode !== null) r(); }));
  for (const c of live) c.kill("SIGTERM");
  const timer = setTimeout(() => { for (const c of live) c.kill("SIGKILL"); }, 10000);
  await Promise.all(exits);
  clearTimeout(timer);
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
}
