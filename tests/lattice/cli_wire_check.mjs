// Independent wire check of the lattice CLI (`cumulus get|link|config|label|scale|start|stop|
// update|events`) with the `nats` npm client (not Cumulus code): starts nats-server on a free
// loopback port and a responder that impersonates one wasmCloud 1.x host. The responder
// answers the ctl subjects like the host does (PROTOCOL.md §1.4), publishes the lattice events
// that acknowledged commands end with (§2), and records every subject + body the CLI sends;
// each case checks them against PROTOCOL.md exactly, plus exit status, stderr advice and that
// -o json output parses.
// Usage: node cli_wire_check.mjs CUMULUS_BINARY NODE_MODULES_DIR
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { children, freePort, loadNats, sleep, startNats, stopAll, uniqueLattice, until } from "./harness.mjs";

const [cumulus, modulesDir] = process.argv.slice(2);
const natsLib = loadNats(modulesDir);
const { StringCodec } = natsLib;
const stateDir = mkdtempSync(path.join(tmpdir(), "cumulus-cli-test-"));
const sc = StringCodec();
const lattice = uniqueLattice("clitest");
const P = `wasmbus.ctl.v1.${lattice}`;
const HOST = "NCLITESTHOSTAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";  // 56 chars like an nkey
const OTHER_HOST = "NOTHERHOSTBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
let failures = 0;

function check(cond, what) {
  if (cond) console.log(`ok   ${what}`);
  else { console.log(`FAIL ${what}`); failures++; }
}
// Key-order-independent JSON equality.
function canon(v) {
  if (Array.isArray(v)) return v.map(canon);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])]));
  }
  return v;
}
const same = (a, b) => JSON.stringify(canon(a)) === JSON.stringify(canon(b));
function parseJson(text) {
  try { return JSON.parse(text); } catch { return undefined; }
}

// ---- the impersonated host -------------------------------------------------------------
const labels = { zone: "a", "hostcore.os": "linux" };
const links = [];
const configs = new Map();
let recorded = [];  // {subject, raw, body}

function cloudEvent(type, data) {
  return { specversion: "1.0", id: randomUUID(), type: `com.wasmcloud.lattice.${type}`, source: HOST,
           time: new Date().toISOString(), datacontenttype: "application/json", data };
}
const ok = (response) => (response === undefined ? { success: true, message: "" }
                                                  : { success: true, message: "", response });
const ack = (message) => ({ success: true, message });
const refuse = (message) => ({ success: false, message });
const isStringMap = (o) => o !== null && typeof o === "object" && !Array.isArray(o) &&
  Object.values(o).every((v) => typeof v === "string");

// Returns [reply or undefined (no reply), events to publish after replying].
function handle(op, name, body) {
  const forMe = name === HOST;
  switch (op) {
    case "host.ping":
      return [ok({ id: HOST, friendly_name: "fake-host-0001", labels, lattice, uptime_seconds: 5,
                   uptime_human: "5s", version: "1.9.2", ctl_host: "nats://127.0.0.1", rpc_host: "nats://127.0.0.1" })];
    case "host.get":
      if (!forMe) return [undefined];
      return [ok({ host_id: HOST, friendly_name: "fake-host-0001", labels, version: "1.9.2", uptime_human: "5s",
                   uptime_seconds: 5,
                   components: [{ id: "running-comp", image_ref: "ghcr.io/x/running:0.1.0", revision: 0, max_instances: 2, limits: null }],
                   providers: [{ id: "running-prov", image_ref: "ghcr.io/x/prov:0.1.0", revision: 0 }] })];
    case "host.stop":
      return forMe ? [ack("successfully handled stop host")] : [undefined];
    case "component.scale": {
      if (!forMe) return [undefined];
      const id = body.component_id;
      const data = { annotations: body.annotations || {}, host_id: HOST, image_ref: body.component_ref,
                     max_instances: body.count ?? 0, component_id: id };
      // Distractors first: the CLI must match component id and host id.
      const noise = [["component_scaled", { ...data, component_id: "someone-else" }],
                     ["component_scaled", { ...data, host_id: OTHER_HOST }]];
      if (id === "silent") return [ack(""), []];
      if (id === "fails") {
        return [ack(""), [...noise, ["component_scale_failed", { ...data, error: "failed to fetch component: registry said no" }]]];
      }
      return [ack(""), [...noise, ["component_scaled", data]]];
    }
    case "component.update":
      if (!forMe) return [undefined];
      if (body.component_id !== "running-comp") return [refuse(`component ${body.component_id} not found`)];
      return [ack(`component running-comp updating from ghcr.io/x/running:0.1.0 to ${body.new_component_ref}`)];
    case "component.auction":
    case "provider.auction": {
      const c = body.constraints || {};
      if (!Object.entries(c).every(([k, v]) => labels[k] === v)) return [undefined];
      const kind = op.split(".")[0];
      return [ok({ [`${kind}_ref`]: body[`${kind}_ref`], [`${kind}_id`]: body[`${kind}_id`], host_id: HOST, constraints: c })];
    }
    case "provider.start": {
      if (!forMe) return [undefined];
      const id = body.provider_id;
      if (id === "badprov") {
        return [ack("successfully started provider"),
                [["provider_start_failed", { provider_ref: body.provider_ref, provider_id: id, host_id: HOST,
                                              error: "provider exited: exec format error", link_name: "default" }]]];
      }
      return [ack("successfully started provider"),
              [["provider_started", { host_id: OTHER_HOST, image_ref: body.provider_ref, provider_id: id, annotations: {} }],
               ["provider_started", { host_id: HOST, image_ref: body.provider_ref, provider_id: id, annotations: {} }]]];
    }
    case "provider.stop":
      if (!forMe) return [undefined];
      return [ack(""), [["provider_stopped", { host_id: HOST, provider_id: body.provider_id, annotations: {},
                                                reason: "stop", instance_id: body.provider_id,
                                                public_key: body.provider_id, link_name: "default" }]]];
    case "link.put":
      if (body.source_id === "refuse") {
        return [refuse("link already exists with different target, consider deleting the existing link or using a different link name")];
      }
      links.push(body);
      return [ack("successfully set link"), [["linkdef_set", body]]];
    case "link.del":
      return [ack("successfully deleted link")];
    case "link.get":
      return [ok(links)];
    case "claims.get":
      return [ok([{ call_alias: "", iss: "AISSUER", issuer: "AISSUER", name: "hello", rev: "3", revision: "3",
                    sub: "MHELLO", subject: "MHELLO", tags: "a,b", version: "0.1.0" }])];
    case "config.put":
      if (!isStringMap(body)) return [refuse("config data should be a map of string -> string")];
      configs.set(name, body);
      return [ack(""), [["config_set", { config_name: name }]]];
    case "config.get":
      return configs.has(name) ? [ok(configs.get(name))] : [ack("Configuration not found")];
    case "config.del":
      configs.delete(name);
      return [ack("")];
    case "label.put":
    case "label.del":
      if (!forMe) return [undefined];
      if (/^hostcore\./i.test(body.key)) return [refuse("hostcore.* labels cannot be set dynamically")];
      return [ack("")];
    default:
      return [refuse("unsupported subject")];
  }
}

async function startResponder(nc) {
  const sub = nc.subscribe(`${P}.>`);
  (async () => {
    for await (const m of sub) {
      const raw = sc.decode(m.data);
      const body = raw === "" ? null : parseJson(raw);
      recorded.push({ subject: m.subject, raw, body });
      const [, , , , noun, verb, name] = m.subject.split(".");
      const [reply, events = []] = handle(`${noun}.${verb}`, name, body || {});
      if (reply !== undefined && m.reply) m.respond(sc.encode(JSON.stringify(reply)));
      if (events.length) {
        await sleep(30);  // after the ack, like a host working in the background
        for (const [type, data] of events) nc.publish(`wasmbus.evt.${lattice}.${type}`, sc.encode(JSON.stringify(cloudEvent(type, data))));
      }
    }
  })();
  await nc.flush();
}

// ---- running the CLI -------------------------------------------------------------------
let url = "";
function run(args, { extra = true, killAfter = 20000, onStderr } = {}) {
  const full = extra ? [...args, "--nats-url", url, "-x", lattice] : args;
  return new Promise((resolve) => {
    const started = Date.now();
    const c = spawn(cumulus, full, { stdio: ["ignore", "pipe", "pipe"] });
    children.push(c);
    let stdout = "", stderr = "";
    c.stdout.on("data", (d) => { stdout += d; });
    c.stderr.on("data", (d) => { stderr += d; if (onStderr) onStderr(stderr, c); });
    const timer = setTimeout(() => c.kill("SIGKILL"), killAfter);
    c.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}
// Runs `args` with the recording cleared; returns the run and what it sent.
async function sent(args, opts) {
  recorded = [];
  const r = await run(args, opts);
  await sleep(50);
  return [r, recorded.slice()];
}
const subjects = (recs) => recs.map((x) => x.subject).join(" ");

// ---- the cases ---------------------------------------------------------------------------
async function hostQueries() {
  let [r, recs] = await sent(["get", "hosts", "-o", "json", "-t", "500"]);
  const j = parseJson(r.stdout);
  check(r.code === 0 && j && j.success === true && j.hosts.length === 1 && j.hosts[0].id === HOST, "get hosts -o json");
  check(recs.length === 1 && recs[0].subject === `${P}.host.ping` && recs[0].raw === "", "get hosts: host.ping, empty body");
  [r] = await sent(["get", "hosts", "-t", "300"]);
  check(r.code === 0 && /^HOST ID\s+FRIENDLY NAME/.test(r.stdout) && r.stdout.includes(HOST) &&
        r.stdout.includes("zone=a"), "get hosts: table");
  [r, recs] = await sent(["get", "inventory", HOST, "-o", "json"]);
  const inv = parseJson(r.stdout);
  check(r.code === 0 && inv && inv.host_id === HOST && inv.components[0].id === "running-comp", "get inventory -o json");
  check(subjects(recs) === `${P}.host.get.${HOST}` && recs[0].raw === "", "get inventory: host.get.{host}, empty body");
  [r] = await sent(["get", "inventory", HOST]);
  check(r.code === 0 && r.stdout.includes("running-comp") && r.stdout.includes("running-prov"), "get inventory: tables");
  [r] = await sent(["get", "inventory", "NBOGUS", "-t", "300"]);
  check(r.code === 1 && r.stderr.includes(`no host answered on ${P}.host.get.NBOGUS`) &&
        r.stderr.includes("cumulus get hosts"), `get inventory of an unknown host: exit 1 with advice (${r.stderr.trim()})`);
  [r, recs] = await sent(["get", "claims", "-o", "json"]);
  const cl = parseJson(r.stdout);
  check(r.code === 0 && cl && cl.claims[0].name === "hello" && subjects(recs) === `${P}.claims.get` && recs[0].raw === "",
        "get claims -o json: claims.get, empty body");
  [r] = await sent(["get", "claims"]);
  check(r.code === 0 && r.stdout.includes("MHELLO") && r.stdout.includes("AISSUER"), "get claims: table");
}

async function linkCommands() {
  let [r, recs] = await sent(["link", "put", "http-hello", "kvredis", "wasi", "keyvalue", "--interface", "store",
                              "--interface", "atomics", "--source-config", "app", "--target-config", "redis-url",
                              "--target-config", "redis-tls"]);
  check(r.code === 0 && recs.length === 1 && recs[0].subject === `${P}.link.put`, "link put: link.put");
  check(same(recs[0].body, { source_id: "http-hello", target: "kvredis", name: "default", wit_namespace: "wasi",
                             wit_package: "keyvalue", interfaces: ["store", "atomics"], source_config: ["app"],
                             target_config: ["redis-url", "redis-tls"] }), `link put: Link body (${recs[0] && recs[0].raw})`);
  [r, recs] = await sent(["link", "put", "httpserver", "http-hello", "wasi", "http", "--interface", "incoming-handler",
                          "-l", "edge", "-o", "json"]);
  check(r.code === 0 && parseJson(r.stdout) && parseJson(r.stdout).success === true, "link put -o json parses");
  check(same(recs[0].body, { source_id: "httpserver", target: "http-hello", name: "edge", wit_namespace: "wasi",
                             wit_package: "http", interfaces: ["incoming-handler"], source_config: [], target_config: [] }),
        "link put -l: name and empty config lists");
  [r, recs] = await sent(["link", "put", "refuse", "x", "wasi", "keyvalue", "--interface", "store"]);
  check(r.code === 1 && r.stderr.includes("link already exists with different target"), "link put refused: exit 1, host's message on stderr");
  [r, recs] = await sent(["link", "put", "a", "b", "wasi", "keyvalue"]);
  check(r.code !== 0 && recs.length === 0 && r.stderr.includes("--interface"), "link put without --interface: refused locally");
  [r, recs] = await sent(["link", "del", "http-hello", "wasi", "keyvalue"]);
  check(r.code === 0 && subjects(recs) === `${P}.link.del` &&
        same(recs[0].body, { source_id: "http-hello", name: "default", wit_namespace: "wasi", wit_package: "keyvalue" }),
        `link del: body (${recs[0] && recs[0].raw})`);
  [r, recs] = await sent(["link", "del", "httpserver", "wasi", "http", "--link-name", "edge"]);
  check(r.code === 0 && recs[0].body.name === "edge", "link del --link-name");
  [r, recs] = await sent(["link", "query", "-o", "json"]);
  const q = parseJson(r.stdout);
  check(r.code === 0 && q && q.links.length === 2 && subjects(recs) === `${P}.link.get` && recs[0].raw === "",
        "link query -o json: link.get, empty body");
  [r] = await sent(["get", "links"]);
  check(r.code === 0 && r.stdout.includes("wasi:keyvalue/{store,atomics}") && r.stdout.includes("redis-url,redis-tls") &&
        r.stdout.includes("wasi:http/incoming-handler"), "get links: table");
}

async function configCommands() {
  let [r, recs] = await sent(["config", "put", "redis-url", "url=redis://127.0.0.1:6379", "query=a=b", "-o", "json"]);
  check(r.code === 0 && parseJson(r.stdout) && subjects(recs) === `${P}.config.put.redis-url` &&
        same(recs[0].body, { url: "redis://127.0.0.1:6379", query: "a=b" }), `config put: flat map body (${recs[0] && recs[0].raw})`);
  [r, recs] = await sent(["config", "put", "SECRET_db", "a=b"]);
  check(r.code === 1 && recs.length === 0 && r.stderr.includes("SECRET"), "config put SECRET_…: refused, nothing sent");
  [r, recs] = await sent(["config", "put", "bad", "novalue"]);
  check(r.code === 1 && recs.length === 0 && r.stderr.includes("key=value"), "config put without '=': refused");
  [r, recs] = await sent(["config", "get", "redis-url", "-o", "json"]);
  const g = parseJson(r.stdout);
  check(r.code === 0 && g && g.config.url === "redis://127.0.0.1:6379" && subjects(recs) === `${P}.config.get.redis-url` &&
        recs[0].raw === "", "config get -o json: config.get.{name}, empty body");
  [r] = await sent(["get", "config", "redis-url"]);
  check(r.code === 0 && /^KEY\s+VALUE/.test(r.stdout) && r.stdout.includes("redis://127.0.0.1:6379"), "get config: table");
  [r] = await sent(["config", "get", "missing", "-o", "json"]);
  const m = parseJson(r.stdout);
  check(r.code === 0 && m && m.config === null, "config get of a missing config: not an error");
  [r, recs] = await sent(["config", "del", "redis-url"]);
  check(r.code === 0 && subjects(recs) === `${P}.config.del.redis-url` && recs[0].raw === "", "config del: empty body");
}

async function labelCommands() {
  let [r, recs] = await sent(["label", HOST, "zone=b", "env=prod"]);
  check(r.code === 0 && subjects(recs) === `${P}.label.put.${HOST} ${P}.label.put.${HOST}`, "label: label.put.{host} per key");
  check(recs.length === 2 && same(recs[0].body, { key: "zone", value: "b" }) && same(recs[1].body, { key: "env", value: "prod" }),
        "label: {key, value} bodies");
  [r, recs] = await sent(["label", HOST, "--delete", "zone", "-o", "json"]);
  check(r.code === 0 && parseJson(r.stdout) && subjects(recs) === `${P}.label.del.${HOST}` && same(recs[0].body, { key: "zone" }),
        "label --delete: label.del.{host} with {key}");
  [r] = await sent(["label", HOST, "hostcore.os=windows"]);
  check(r.code === 1 && r.stderr.includes("hostcore.* labels cannot be set dynamically"), "label hostcore.*: exit 1 with the host's message");
}

async function scaleCommands() {
  let [r, recs] = await sent(["scale", "component", HOST, "ghcr.io/x/hello:0.1.0", "hello", "-c", "5", "-a", "team=a",
                              "--config", "app", "--config", "SECRET_db", "-o", "json"]);
  const j = parseJson(r.stdout);
  check(r.code === 0 && subjects(recs) === `${P}.component.scale.${HOST}`, "scale: component.scale.{host}");
  check(same(recs[0].body, { component_ref: "ghcr.io/x/hello:0.1.0", component_id: "hello", count: 5, host_id: HOST,
                             annotations: { team: "a" }, config: ["app", "SECRET_db"], allow_update: false }),
        `scale: body uses count, not max_instances (${recs[0] && recs[0].raw})`);
  check(j && j.success === true && j.event && j.event.data.component_id === "hello" && j.event.data.host_id === HOST &&
        j.event.data.max_instances === 5, "scale: waited for this host's component_scaled for this id");
  [r, recs] = await sent(["scale", "component", HOST, "ghcr.io/x/hello:0.1.0", "hello"]);
  check(r.code === 0 && recs[0].body.count === 4294967295 && !("max_instances" in recs[0].body) &&
        !("annotations" in recs[0].body) && r.stdout.includes("unbounded"), "scale: default count u32::MAX");
  [r] = await sent(["scale", "component", HOST, "ghcr.io/x/broken:0.1.0", "fails"]);
  check(r.code === 1 && r.stderr.includes("failed to fetch component: registry said no"),
        `scale: component_scale_failed -> exit 1 with its error (${r.stderr.trim()})`);
  [r] = await sent(["scale", "component", HOST, "ghcr.io/x/broken:0.1.0", "fails", "-o", "json"]);
  const e = parseJson(r.stdout);
  check(r.code === 1 && e && e.success === false && e.error.includes("registry said no"), "scale failure -o json: error document");
  [r] = await sent(["scale", "component", HOST, "ghcr.io/x/hello:0.1.0", "silent", "--wait-timeout-ms", "400"]);
  check(r.code === 1 && r.stderr.includes("component_scaled") && r.stderr.includes("--wait-timeout-ms"), "scale: no event -> exit 1");
  [r] = await sent(["scale", "component", HOST, "ghcr.io/x/hello:0.1.0", "silent", "--skip-wait"]);
  check(r.code === 0 && r.stdout.includes("acknowledged"), "scale --skip-wait: ack is enough");
  [r, recs] = await sent(["scale", "component", "NBOGUS", "ghcr.io/x/hello:0.1.0", "hello", "-t", "300"]);
  check(r.code === 1 && r.stderr.includes(`${P}.component.scale.NBOGUS`) && r.stderr.includes("cumulus get hosts"),
        "scale on an unknown host: exit 1 with advice");
}

async function startStopUpdate() {
  let [r, recs] = await sent(["start", "component", "ghcr.io/x/hello:0.1.0", "hello2", "--constraint", "zone=a", "-o", "json"]);
  check(r.code === 0 && subjects(recs) === `${P}.component.auction ${P}.component.scale.${HOST}`, `start component: auction then scale (${subjects(recs)})`);
  check(recs.length === 2 && same(recs[0].body, { component_ref: "ghcr.io/x/hello:0.1.0", component_id: "hello2", constraints: { zone: "a" } }),
        "start component: auction body");
  check(recs.length === 2 && recs[1].body.count === 1 && recs[1].body.host_id === HOST && recs[1].body.component_id === "hello2",
        "start component: scale with count 1 on the winner");
  check(parseJson(r.stdout) && parseJson(r.stdout).event.data.max_instances === 1, "start component -o json: outcome event");
  [r, recs] = await sent(["start", "component", "ghcr.io/x/hello:0.1.0", "hello3", "--constraint", "zone=nowhere", "-t", "300"]);
  check(r.code === 1 && recs.length === 1 && r.stderr.includes("no host accepted") && r.stderr.includes("--constraint"),
        "start component: no auction ack -> exit 1 with advice");
  [r, recs] = await sent(["start", "component", "ghcr.io/x/hello:0.1.0", "hello4", "--host-id", HOST, "-c", "3"]);
  check(r.code === 0 && subjects(recs) === `${P}.component.scale.${HOST}` && recs[0].body.count === 3, "start component --host-id: no auction");

  [r, recs] = await sent(["stop", "component", "running-comp", "-t", "300"]);
  check(r.code === 0 && subjects(recs) === `${P}.host.ping ${P}.host.get.${HOST} ${P}.component.scale.${HOST}`,
        `stop component: ping, inventory, scale (${subjects(recs)})`);
  const s = recs[2] && recs[2].body;
  check(s && s.count === 0 && s.component_id === "running-comp" && s.component_ref === "ghcr.io/x/running:0.1.0" &&
        r.stdout.includes("stopped"), "stop component: count 0");
  [r] = await sent(["stop", "component", "nowhere", "-t", "300"]);
  check(r.code === 1 && r.stderr.includes("no host in lattice") && r.stderr.includes("cumulus get inventory"),
        "stop component that no host runs: exit 1");
  [r, recs] = await sent(["stop", "component", "hello", "--host-id", HOST, "-o", "json"]);
  check(r.code === 0 && subjects(recs) === `${P}.component.scale.${HOST}` && parseJson(r.stdout).stopped.length === 1,
        "stop component --host-id -o json");

  [r, recs] = await sent(["update", "component", "running-comp", "ghcr.io/x/running:0.2.0", "-t", "300"]);
  check(r.code === 0 && subjects(recs) === `${P}.host.ping ${P}.host.get.${HOST} ${P}.component.update.${HOST}` &&
        same(recs[2].body, { component_id: "running-comp", new_component_ref: "ghcr.io/x/running:0.2.0", host_id: HOST }) &&
        r.stdout.includes("updating from"), `update component: host found, update body (${recs[2] && recs[2].raw})`);
  [r] = await sent(["update", "component", "ghost", "ghcr.io/x/ghost:2", "--host-id", HOST]);
  check(r.code === 1 && r.stderr.includes("component ghost not found"), "update component refused: exit 1, message on stderr");

  [r, recs] = await sent(["start", "provider", "ghcr.io/x/prov:0.1.0", "prov1", "--host-id", HOST, "--config", "c1", "-o", "json"]);
  check(r.code === 0 && subjects(recs) === `${P}.provider.start.${HOST}` &&
        same(recs[0].body, { provider_id: "prov1", provider_ref: "ghcr.io/x/prov:0.1.0", host_id: HOST, config: ["c1"] }),
        `start provider: provider.start body (${recs[0] && recs[0].raw})`);
  const p = parseJson(r.stdout);
  check(p && p.event && p.event.data.host_id === HOST && p.event.data.provider_id === "prov1", "start provider: waited for provider_started");
  [r, recs] = await sent(["start", "provider", "ghcr.io/x/prov:0.1.0", "prov2", "--constraint", "zone=a"]);
  check(r.code === 0 && subjects(recs) === `${P}.provider.auction ${P}.provider.start.${HOST}` &&
        same(recs[0].body, { provider_ref: "ghcr.io/x/prov:0.1.0", provider_id: "prov2", constraints: { zone: "a" } }),
        "start provider: provider auction body");
  [r] = await sent(["start", "provider", "ghcr.io/x/bad:0.1.0", "badprov", "--host-id", HOST]);
  check(r.code === 1 && r.stderr.includes("exec format error"), "start provider: provider_start_failed -> exit 1");
  [r, recs] = await sent(["stop", "provider", "running-prov", "-t", "300"]);
  check(r.code === 0 && subjects(recs) === `${P}.host.ping ${P}.host.get.${HOST} ${P}.provider.stop.${HOST}` &&
        same(recs[2].body, { host_id: HOST, provider_id: "running-prov" }), "stop provider: found, provider.stop body");
  [r, recs] = await sent(["stop", "host", HOST, "--host-timeout", "5000"]);
  check(r.code === 0 && subjects(recs) === `${P}.host.stop.${HOST}` && same(recs[0].body, { host_id: HOST, timeout: 5000 }),
        "stop host: body {host_id, timeout}");
}

async function eventsCommand(nc) {
  const publish = (lat, type, data) =>
    nc.publish(`wasmbus.evt.${lat}.${type}`, sc.encode(JSON.stringify(cloudEvent(type, data))));
  const watch = (args) => {
    let published = false;
    return run(args, { killAfter: 10000, onStderr: (err) => {
      if (published || !err.includes("watching")) return;
      published = true;
      publish("otherlattice", "config_set", { config_name: "elsewhere" });
      publish(lattice, "linkdef_deleted", { source_id: "a", name: "default", wit_namespace: "wasi", wit_package: "http" });
      publish(lattice, "component_scaled", { host_id: HOST, component_id: "hello", max_instances: 1, image_ref: "r", annotations: {} });
      publish(lattice, "config_set", { config_name: "c" });
    } });
  };
  let r = await watch(["events", "--count", "2", "-o", "json"]);
  const lines = r.stdout.trim().split("\n").map(parseJson);
  check(r.code === 0 && lines.length === 2 && lines.every((l) => l && l.specversion === "1.0") &&
        lines[0].type === "com.wasmcloud.lattice.linkdef_deleted" && lines[1].type === "com.wasmcloud.lattice.component_scaled",
        `events -o json: one CloudEvent per line, this lattice only (${r.stdout.trim()})`);
  r = await watch(["events", "--type", "component_scaled", "--type", "com.wasmcloud.lattice.config_set", "--count", "2"]);
  const text = r.stdout.trim().split("\n");
  check(r.code === 0 && text.length === 2 && /^\S+Z\s+component_scaled\s+N\S+\s+\{/.test(text[0]) && text[0].includes(HOST) &&
        text[1].includes("config_set") && !r.stdout.includes("com.wasmcloud.lattice."),
        `events --type: text lines (${text.join(" | ")})`);
  // Ctrl-C ends the watch cleanly.
  const c = await run(["events"], { killAfter: 10000, onStderr: (err, child) => {
    if (err.includes("watching")) child.kill("SIGINT");
  } });
  check(c.code === 0, `events: SIGINT exits 0 (${c.code}/${c.signal})`);
}

async function noServer() {
  const port = await freePort();
  const r = await run(["get", "links", "--nats-url", `nats://127.0.0.1:${port}`, "-x", lattice], { extra: false });
  check(r.code === 1 && r.ms < 5000 && r.stderr.includes("is nats-server running"),
        `no NATS server: exit 1 in ${r.ms} ms with advice (${r.stderr.trim()})`);
  const s = await run(["scale", "component", HOST, "ref", "id", "--nats-url", `nats://127.0.0.1:${port}`, "-o", "json"], { extra: false });
  const j = parseJson(s.stdout);
  check(s.code === 1 && j && j.success === false && typeof j.error === "string", "no NATS server -o json: error document");
}

async function main() {
  await noServer();
  const started = await startNats(natsLib, stateDir);
  url = started.url;
  const nc = started.nc;
  await startResponder(nc);
  await hostQueries();
  await linkCommands();
  await configCommands();
  await labelCommands();
  await scaleCommands();
  await startStopUpdate();
  await eventsCommand(nc);
  await nc.close();
}

main().catch((e) => { console.log(`FAIL ${e.stack || e}`); failures++; }).finally(async () => {
  await stopAll(stateDir);
  console.log(failures ? `${failures} check(s) failed` : "all CLI wire checks passed");
  process.exit(failures ? 1 : 0);
});
