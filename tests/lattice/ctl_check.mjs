// Independent wire check of Cumulus hosts with the `nats` npm client (not Cumulus code):
// starts nats-server on a free loopback port and two `cumulus host` processes, then checks
// ping (both answer), inventory and heartbeat shapes, malformed JSON -> success:false,
// unknown subject -> success:false, host stop -> ack + host_stopped event, and `cumulus get hosts`.
// Usage: node ctl_check.mjs CUMULUS_BINARY NODE_MODULES_DIR
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { isObj, keys, loadNats, startNats, stopAll, uniqueLattice, until } from "./harness.mjs";

const [cumulus, modulesDir] = process.argv.slice(2);
const nats = loadNats(modulesDir);
const { StringCodec } = nats;
const sc = StringCodec();
const lattice = uniqueLattice("ctltest");
const P = `wasmbus.ctl.v1.${lattice}`;
let failures = 0;
const children = [];
const stateDir = mkdtempSync(path.join(tmpdir(), "cumulus-ctl-test-"));

function check(cond, what) {
  if (cond) console.log(`ok   ${what}`);
  else { console.log(`FAIL ${what}`); failures++; }
}
function startHost(url, label) {
  const c = spawn(cumulus, ["host", "--lattice", lattice, "--nats-url", url, "--label", label,
                            "--heartbeat-interval-seconds", "1"], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  c.stdout.on("data", (d) => { out += d; });
  children.push(c);
  c.idPromise = until("host start line", () => (out.match(/^host (N[A-Z2-7]{55}) /m) || [])[1]);
  c.exited = new Promise((r) => c.on("exit", (code) => r(code)));
  return c;
}

async function main() {
  const { url, nc, proc: server } = await startNats(nats, stateDir);
  children.push(server);
  const events = [];
  const evsub = nc.subscribe(`wasmbus.evt.${lattice}.>`);
  (async () => { for await (const m of evsub) events.push({ subject: m.subject, ev: JSON.parse(sc.decode(m.data)) }); })();
  await nc.flush();

  const h1 = startHost(url, "zone=a");
  const h2 = startHost(url, "zone=b");
  const [id1, id2] = [await h1.idPromise, await h2.idPromise];

  // ping: scatter-gather, every host answers with CtlResponse<Host>
  const inbox = nc.subscribe("_INBOX.ping." + Date.now(), { timeout: 5000 });
  const replies = [];
  const collecting = (async () => { for await (const m of inbox) replies.push(JSON.parse(sc.decode(m.data))); })().catch(() => {});
  nc.publish(`${P}.host.ping`, new Uint8Array(), { reply: inbox.getSubject() });
  await until("two ping replies", () => replies.length >= 2, 5000).catch(() => {});
  await new Promise((r) => setTimeout(r, 300));
  inbox.unsubscribe();
  await collecting;
  check(replies.length === 2, `ping: two hosts answered (${replies.length})`);
  const ids = replies.map((r) => r.response && r.response.id).sort();
  check(JSON.stringify(ids) === JSON.stringify([id1, id2].sort()), "ping: both host ids");
  for (const r of replies) {
    check(r.success === true && r.message === "" && isObj(r.response), "ping: envelope");
    const h = r.response;
    check(keys(h) === "ctl_host,friendly_name,id,labels,lattice,rpc_host,uptime_human,uptime_seconds,version",
          `ping: Host keys (${keys(h)})`);
    check(h.lattice === lattice && Number.isInteger(h.uptime_seconds) && typeof h.uptime_human === "string" &&
          /^[a-z]+-[a-z]+-\d{4}$/.test(h.friendly_name) && h.labels["hostcore.os"] === "linux" &&
          /^zone=/.test(`zone=${h.labels.zone}`), "ping: Host values");
  }

  // inventory
  const inv = JSON.parse(sc.decode((await nc.request(`${P}.host.get.${id1}`, new Uint8Array(), { timeout: 2000 })).data));
  check(inv.success === true && isObj(inv.response), "inventory: envelope");
  check(keys(inv.response) === "components,friendly_name,host_id,labels,providers,uptime_human,uptime_seconds,version",
        `inventory: keys (${keys(inv.response)})`);
  check(inv.response.host_id === id1 && Array.isArray(inv.response.components) &&
        inv.response.components.length === 0 && Array.isArray(inv.response.providers) &&
        inv.response.labels.zone === "a", "inventory: values");

  // events: host_started and a heartbeat (1 s interval in this test)
  const started = await until("host_started", () => events.find((e) => e.ev.type === "com.wasmcloud.lattice.host_started" && e.ev.source === id1));
  check(started.subject === `wasmbus.evt.${lattice}.host_started`, "host_started: subject");
  check(keys(started.ev.data) === "friendly_name,labels,uptime_seconds,version" && started.ev.data.uptime_seconds === 0,
        "host_started: data");
  const hb = await until("host_heartbeat", () => events.find((e) => e.ev.type === "com.wasmcloud.lattice.host_heartbeat" && e.ev.source === id1));
  const ce = hb.ev;
  check(hb.subject === `wasmbus.evt.${lattice}.host_heartbeat`, "heartbeat: subject");
  check(keys(ce) === "data,datacontenttype,id,source,specversion,time,type" && ce.specversion === "1.0" &&
        ce.datacontenttype === "application/json" && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(ce.id) &&
        !Number.isNaN(Date.parse(ce.time)) && ce.time.endsWith("Z"), "heartbeat: CloudEvent envelope");
  check(keys(ce.data) === "components,friendly_name,host_id,labels,providers,uptime_human,uptime_seconds,version" &&
        ce.data.host_id === id1, "heartbeat: data is the HostInventory");

  // malformed JSON and an unknown subject: success:false, host keeps answering
  const bad = JSON.parse(sc.decode((await nc.request(`${P}.host.stop.${id1}`, sc.encode("{oops"), { timeout: 2000 })).data));
  check(bad.success === false && typeof bad.message === "string" && bad.message.length > 0 && !("response" in bad),
        `malformed JSON: success:false (${bad.message})`);
  const unk = JSON.parse(sc.decode((await nc.request(`${P}.host.frobnicate.${id1}`, new Uint8Array(), { timeout: 2000 })).data));
  check(unk.success === false && unk.message === "unsupported subject", "unknown subject: success:false");
  const again = JSON.parse(sc.decode((await nc.request(`${P}.host.get.${id1}`, new Uint8Array(), { timeout: 2000 })).data));
  check(again.success === true, "host still answers after bad requests");

  // the CLI's view
  const cli = JSON.parse(execFileSync(cumulus, ["get", "hosts", "--nats-url", url, "--lattice", lattice, "-o", "json", "-t", "1000"]).toString());
  check(cli.hosts.length === 2, "cumulus get hosts -o json: two hosts");

  // host stop: ack, host_stopped event, process exits 0
  const stop = JSON.parse(sc.decode((await nc.request(`${P}.host.stop.${id2}`, sc.encode(JSON.stringify({ host_id: id2, timeout: 5000 })), { timeout: 2000 })).data));
  check(stop.success === true && stop.message === "successfully handled stop host" && !("response" in stop), "stop: ack");
  const stopped = await until("host_stopped", () => events.find((e) => e.ev.type === "com.wasmcloud.lattice.host_stopped" && e.ev.source === id2));
  check(keys(stopped.ev.data) === "labels" && stopped.ev.data.labels.zone === "b", "host_stopped: data");
  check((await h2.exited) === 0, "stopped host process exited 0");
  const stop1 = JSON.parse(sc.decode((await nc.request(`${P}.host.stop.${id1}`, new Uint8Array(), { timeout: 2000 })).data));
  check(stop1.success === true, "stop (empty body): ack");
  check((await h1.exited) === 0, "second host exited 0");
  await nc.close();
}

main().catch((e) => { console.log(`FAIL ${e.stack || e}`); failures++; }).finally(async () => {
  await stopAll(stateDir, children);
  console.log(failures ? `${failures} check(s) failed` : "all ctl checks passed");
  process.exit(failures ? 1 : 0);
});
