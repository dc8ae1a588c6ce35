// Lattice end to end, checked by an independent client (the `nats` npm package and curl):
// named config, links (uniqueness, events, KV layout), component scaling from files (events,
// inventory, failures), the builtin http-server serving components through links, an
// in-process component chain (inter_component_call_{caller,middleware,callee}), labels,
// auctions, claims, scale to zero, and lattice state surviving a host killed with SIGKILL.
// With TEST_COMPONENTS_DIR (tests/http/build_components.sh): wasi:config from named config
// (merge order, live updates, deletion) and wasi:logging into the host log.
// Usage: node apps_check.mjs CUMULUS NODE_MODULES_DIR WASH_FIXTURES_DIR [TEST_COMPONENTS_DIR]
import { execFileSync } from "node:child_process";
import http from "node:http";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { uniqueLattice, Checker, ctl, ctlRetry, eventLog, freePort, isObj, keys, stopAll, loadNats, startHost, startNats, until } from "./harness.mjs";

const [cumulus, modulesDir, fixtures, testComponents] = process.argv.slice(2);
const nats = loadNats(modulesDir);
const t = new Checker();
const lattice = uniqueLattice("appstest");
const P = `wasmbus.ctl.v1.${lattice}`;
const stateDir = mkdtempSync(path.join(tmpdir(), "cumulus-apps-test-"));
const fixture = (name) => `file://${path.join(fixtures, name)}`;

// curl: [status, body]; status 0 when the connection failed.
function curl(url) {
  try {
    const out = execFileSync("curl", ["-s", "-m", "10", "-o", "-", "-w", "\n%{http_code}", url]).toString();
    const nl = out.lastIndexOf("\n");
    return [Number(out.slice(nl + 1)), out.slice(0, nl)];
  } catch {
    return [0, ""];
  }
}

async function scatter(nc, subject, body, ms = 1000) {
  const inbox = nats.createInbox();
  const sub = nc.subscribe(inbox);
  const replies = [];
  (async () => { for await (const m of sub) replies.push(JSON.parse(new TextDecoder().decode(m.data))); })();
  nc.publish(subject, new TextEncoder().encode(JSON.stringify(body)), { reply: inbox });
  await new Promise((r) => setTimeout(r, ms));
  sub.unsubscribe();
  return replies;
}

async function main() {
  const { url, nc } = await startNats(nats, stateDir);
  const ev = eventLog(nc, lattice);
  await nc.flush();
  const hostArgs = (zone) => ["--label", `zone=${zone}`, "--allow-file-load", "true"];
  const h1 = startHost(cumulus, url, lattice, hostArgs("a"));
  const h2 = startHost(cumulus, url, lattice, hostArgs("b"));
  const [id1, id2] = [await h1.idPromise, await h2.idPromise];

  // ---- named config
  let r = await ctl(nc, `${P}.config.put.greeting`, { message: "hi" });
  t.check(r.success === true && !("response" in r), "config put: ack");
  await ev.find("config_set", (d) => d.config_name === "greeting");
  t.check(true, "config put: config_set event");
  r = await ctl(nc, `${P}.config.get.greeting`);
  t.check(r.success === true && r.response.message === "hi", "config get: the stored map");
  r = await ctl(nc, `${P}.config.put.bad`, { n: 1 });
  t.check(r.success === false && r.message === "config data should be a map of string -> string",
          `config put with a non-string value: refused (${r.message})`);
  r = await ctl(nc, `${P}.config.get.nothing-here`);
  t.check(r.success === true && r.message === "Configuration not found" && !("response" in r),
          "config get of a missing name: success, not found");
  r = await ctl(nc, `${P}.config.put.doomed`, { a: "b" });
  r = await ctl(nc, `${P}.config.del.doomed`);
  t.check(r.success === true, "config del: ack");
  await ev.find("config_deleted", (d) => d.config_name === "doomed");
  r = await ctl(nc, `${P}.config.get.doomed`);
  t.check(r.message === "Configuration not found", "config del: gone");

  // ---- links
  const toMiddleware = { source_id: "caller", target: "middleware", wit_namespace: "wasmcloud",
                         wit_package: "example", interfaces: ["middleware"] };
  r = await ctl(nc, `${P}.link.put`, { ...toMiddleware, source_config: ["no-such-config"] });
  t.check(r.success === false && /no-such-config/.test(r.message), `link put with a missing config: refused (${r.message})`);
  await ev.find("linkdef_set_failed", (d) => d.source_id === "caller" && typeof d.error === "string");
  r = await ctl(nc, `${P}.link.put`, toMiddleware);
  t.check(r.success === true && r.message === "successfully set link", "link put: ack");
  const set = await ev.find("linkdef_set", (d) => d.source_id === "caller");
  t.check(keys(set.ev.data) === "interfaces,name,source_config,source_id,target,target_config,wit_namespace,wit_package" &&
          set.ev.data.name === "default", `linkdef_set: data (${keys(set.ev.data)})`);
  r = await ctl(nc, `${P}.link.put`, { ...toMiddleware, target: "someone-else" });
  t.check(r.success === false && /already exists with different target/.test(r.message),
          "link put: same name and interface to another target refused");
  r = await ctl(nc, `${P}.link.put`, { ...toMiddleware, target: "someone-else", name: "alt" });
  t.check(r.success === true, "link put: another link name may target elsewhere");
  r = await ctl(nc, `${P}.link.put`, "{not json");
  t.check(r.success === false, "link put: malformed JSON refused");
  r = await ctl(nc, `${P}.link.get`);
  const mine = (r.response || []).filter((l) => l.source_id === "caller");
  t.check(r.success === true && mine.length === 2 && mine.some((l) => l.name === "default" && l.target === "middleware" &&
          Array.isArray(l.source_config) && l.source_config.length === 0), "link get: both links");
  const js = nc.jetstream();
  const kv = await js.views.kv(`LATTICEDATA_${lattice}`);
  const spec = JSON.parse(new TextDecoder().decode((await kv.get("COMPONENT_caller")).value));
  t.check(isObj(spec) && Array.isArray(spec.links) && spec.links.length === 2 && "url" in spec,
          "KV: COMPONENT_caller holds the source's links");
  r = await ctl(nc, `${P}.link.del`, { source_id: "caller", wit_namespace: "wasmcloud", wit_package: "example", name: "alt" });
  t.check(r.success === true && r.message === "successfully deleted link", "link del: ack");
  const del = await ev.find("linkdef_deleted", (d) => d.name === "alt");
  t.check(del.ev.data.target === "someone-else", "linkdef_deleted: names the removed target");
  r = await ctl(nc, `${P}.link.del`, { source_id: "caller", wit_namespace: "wasmcloud", wit_package: "example", name: "alt" });
  t.check(r.success === true && /doesn't exist/.test(r.message), "link del again: idempotent");

  // ---- components
  r = await ctl(nc, `${P}.component.scale.${id1}`, { component_ref: fixture("http_hello_world_rust.wasm"), component_id: "hello", count: 5 });
  t.check(r.success === true && !("response" in r), "scale: ack");
  const scaled = await ev.find("component_scaled", (d) => d.component_id === "hello", 30000);
  // The Rust hello world is signed (wascap JWT in a wasmcloud_jwt section): its claims show up.
  t.check(keys(scaled.ev.data) === "annotations,claims,component_id,host_id,image_ref,max_instances,public_key" &&
          scaled.ev.data.max_instances === 5 && scaled.ev.data.host_id === id1, `component_scaled: data (${keys(scaled.ev.data)})`);
  t.check(scaled.ev.data.public_key === "MBFFVNGFK3IA2ZXXG5DQXQNYM6TNG45PHJMJIJFVFI6YKS3XTXL3DRRK" &&
          scaled.ev.data.claims.name === "http-hello-world" &&
          keys(scaled.ev.data.claims) === "call_alias,expires_human,issuer,name,not_before_human,revision,tags,version",
          `component_scaled: claims of a signed component (${keys(scaled.ev.data.claims)})`);
  r = await ctl(nc, `${P}.host.get.${id1}`);
  const comp = r.response.components.find((c) => c.id === "hello");
  t.check(comp && comp.image_ref === fixture("http_hello_world_rust.wasm") && comp.max_instances === 5 && comp.revision === 0 &&
          comp.name === "http-hello-world", "inventory: lists the component, named from its claims");
  // An http:// reference: a local web server serves the component file.
  const web = http.createServer((req, res) => {
    if (req.url === "/hello.wasm") { res.writeHead(200); res.end(readFileSync(path.join(fixtures, "http_hello_world_rust.wasm"))); }
    else { res.writeHead(404); res.end(); }
  });
  await new Promise((res) => web.listen(0, "127.0.0.1", res));
  const webUrl = `http://127.0.0.1:${web.address().port}`;
  await ctl(nc, `${P}.component.scale.${id2}`, { component_ref: `${webUrl}/hello.wasm`, component_id: "hello-web", count: 1 });
  const fromWeb = await ev.find("component_scaled", (d) => d.component_id === "hello-web", 30000);
  t.check(fromWeb.ev.data.image_ref === `${webUrl}/hello.wasm` && fromWeb.ev.data.host_id === id2, "scale from an http:// URL");
  await ctl(nc, `${P}.component.scale.${id2}`, { component_ref: `${webUrl}/missing.wasm`, component_id: "web-404", count: 1 });
  const web404 = await ev.find("component_scale_failed", (d) => d.component_id === "web-404");
  t.check(/404/.test(web404.ev.data.error), `an http:// URL answering 404: scale fails (${web404.ev.data.error})`);
  web.close();
  r = await ctl(nc, `${P}.component.scale.${id1}`, { component_ref: "file:///nonexistent.wasm", component_id: "ghost", count: 1 });
  t.check(r.success === true, "scale of a missing file: acknowledged");
  const failed = await ev.find("component_scale_failed", (d) => d.component_id === "ghost");
  t.check(/nonexistent/.test(failed.ev.data.error), `component_scale_failed: error (${failed.ev.data.error})`);
  const junk = path.join(stateDir, "junk.wasm");
  writeFileSync(junk, "this is not wasm");
  await ctl(nc, `${P}.component.scale.${id1}`, { component_ref: `file://${junk}`, component_id: "junk", count: 1 });
  const junkFailed = await ev.find("component_scale_failed", (d) => d.component_id === "junk");
  t.check(junkFailed.ev.data.error.length > 0, `malformed wasm: scale fails (${junkFailed.ev.data.error})`);
  const tampered = Buffer.from(readFileSync(path.join(fixtures, "http_hello_world_rust.wasm")));
  tampered[Math.floor(tampered.length / 3)] ^= 1;
  const tamperedFile = path.join(stateDir, "tampered.wasm");
  writeFileSync(tamperedFile, tampered);
  await ctl(nc, `${P}.component.scale.${id1}`, { component_ref: `file://${tamperedFile}`, component_id: "tampered", count: 1 });
  const tamperedFailed = await ev.find("component_scale_failed", (d) => d.component_id === "tampered");
  t.check(/modified after signing/.test(tamperedFailed.ev.data.error), `a signed component modified after signing is refused (${tamperedFailed.ev.data.error})`);
  r = await ctl(nc, `${P}.component.scale.${id1}`, { component_ref: "ghcr.io/x/y:1.0", component_id: "oci", count: 1 });
  const oci = await ev.find("component_scale_failed", (d) => d.component_id === "oci");
  t.check(/OCI/.test(oci.ev.data.error), "OCI reference: clear error");
  r = await ctl(nc, `${P}.component.scale.${id1}`, { component_ref: "file:///x.wasm" });
  t.check(r.success === false, "scale without component_id: refused");
  r = await ctl(nc, `${P}.component.scale.${id1}`, "[]");
  t.check(r.success === false, "scale with a non-object body: refused");

  // ---- builtin http-server through links
  r = await ctl(nc, `${P}.provider.start.${id1}`, { provider_id: "http", provider_ref: "wasmcloud+builtin://http-server" });
  t.check(r.success === true && r.message === "successfully started provider", "provider start (builtin http-server): ack");
  await ev.find("provider_started", (d) => d.provider_id === "http");
  r = await ctl(nc, `${P}.provider.start.${id1}`, { provider_id: "ext", provider_ref: "ghcr.io/wasmcloud/http-server:0.1" });
  t.check(r.success === false, `external provider: refused clearly (${r.message})`);
  const port = await freePort();
  await ctl(nc, `${P}.config.put.hello-http`, { address: `127.0.0.1:${port}` });
  r = await ctl(nc, `${P}.link.put`, { source_id: "http", target: "hello", wit_namespace: "wasi", wit_package: "http",
                                       interfaces: ["incoming-handler"], source_config: ["hello-http"] });
  t.check(r.success === true, "link http-server -> hello");
  const [status, body] = await until("hello over HTTP", () => { const x = curl(`http://127.0.0.1:${port}/`); return x[0] === 200 && x; });
  t.check(status === 200 && /Hello/.test(body), `curl through the link: 200 (${JSON.stringify(body)})`);
  r = await ctl(nc, `${P}.host.get.${id1}`);
  t.check(r.response.providers.some((p) => p.id === "http" && p.image_ref === "wasmcloud+builtin://http-server"),
          "inventory: lists the provider");

  // ---- component.update: the running id switches to another image, live behind its link
  const cHello = `file://${path.resolve(fixtures, "../../toolchains/c-http/hello_http.component.wasm")}`;
  r = await ctl(nc, `${P}.component.update.${id1}`, { component_id: "hello", new_component_ref: cHello, host_id: id1 });
  t.check(r.success === true && r.message === `component hello updating from ${fixture("http_hello_world_rust.wasm")} to ${cHello}`,
          `update: ack names both references (${r.message})`);
  await ev.find("component_scaled", (d) => d.component_id === "hello" && d.image_ref === cHello && d.max_instances === 5, 30000);
  await ev.find("component_scaled", (d) => d.component_id === "hello" && d.image_ref === fixture("http_hello_world_rust.wasm") && d.max_instances === 0);
  t.check(true, "update: component_scaled for the new image (same max) and max 0 for the old one");
  const updated = await until("updated component answers", () => { const x = curl(`http://127.0.0.1:${port}/`); return /from C/.test(x[1]) && x; });
  t.check(updated[0] === 200, `update: the link serves the new image (${JSON.stringify(updated[1])})`);
  r = await ctl(nc, `${P}.component.update.${id1}`, { component_id: "hello", new_component_ref: cHello });
  t.check(r.success === true && /already updated/.test(r.message), "update to the same image: nothing to do");
  r = await ctl(nc, `${P}.component.update.${id1}`, { component_id: "nobody", new_component_ref: cHello });
  t.check(r.success === false && r.message === "component nobody not found", "update of a component not running: not found");
  const beforeRevert = ev.events.length;
  r = await ctl(nc, `${P}.component.update.${id1}`, { component_id: "hello", new_component_ref: fixture("http_hello_world_rust.wasm") });
  await ev.find("component_scaled", (d) => d.component_id === "hello" && d.image_ref === cHello && d.max_instances === 0, 30000, beforeRevert);
  await until("rust again", () => /Rust/.test(curl(`http://127.0.0.1:${port}/`)[1]));

  // ---- a link to a target that runs nowhere: accepted (it may start later); calls fail clearly
  await ctl(nc, `${P}.config.put.ghost-http`, { address: `127.0.0.1:${await freePort()}` });
  r = await ctl(nc, `${P}.link.put`, { source_id: "http", target: "ghost-target", name: "ghost", wit_namespace: "wasi",
                                       wit_package: "http", interfaces: ["incoming-handler"], source_config: ["ghost-http"] });
  t.check(r.success === true, "link to a target that is not running: accepted");
  const ghostPort = (await ctl(nc, `${P}.config.get.ghost-http`)).response.address.split(":")[1];
  const ghost = await until("ghost route", () => { const x = curl(`http://127.0.0.1:${ghostPort}/`); return x[0] !== 0 && x; });
  t.check(ghost[0] === 503 && /ghost-target is not running/.test(ghost[1]), `its requests get 503 naming the target (${ghost[0]})`);

  // ---- a ctl payload beyond NATS max_payload is refused by NATS; the hosts carry on
  let tooBig = false;
  try { await ctl(nc, `${P}.config.put.huge`, { blob: "x".repeat(2 << 20) }, 2000); } catch (e) { tooBig = /MAX_PAYLOAD|payload/i.test(String(e)); }
  t.check(tooBig, "a 2 MiB ctl request is refused by NATS (max_payload)");
  r = await ctl(nc, `${P}.config.put.large`, { blob: "y".repeat(512 << 10) });
  t.check(r.success === true && (await ctl(nc, `${P}.config.get.large`)).response.blob.length === 512 << 10,
          "a 512 KiB config round-trips");

  // ---- in-process component chain: caller -> middleware -> callee
  for (const [id, file] of [["caller", "inter_component_call_caller.wasm"], ["middleware", "inter_component_call_middleware.wasm"],
                            ["callee", "inter_component_call_callee.wasm"]]) {
    await ctl(nc, `${P}.component.scale.${id1}`, { component_ref: fixture(file), component_id: id, count: 2 });
    await ev.find("component_scaled", (d) => d.component_id === id, 30000);
  }
  const toCallee = { source_id: "middleware", target: "callee", wit_namespace: "wasmcloud", wit_package: "example", interfaces: ["receiver"] };
  await ctl(nc, `${P}.link.put`, toCallee);
  const chainPort = await freePort();
  await ctl(nc, `${P}.config.put.chain-http`, { address: `127.0.0.1:${chainPort}` });
  // One provider serving two components needs a second link name (wasmCloud's uniqueness rule).
  r = await ctl(nc, `${P}.link.put`, { source_id: "http", target: "caller", wit_namespace: "wasi", wit_package: "http",
                                       interfaces: ["incoming-handler"], source_config: ["chain-http"] });
  t.check(r.success === false, "a second http-server link under the same name is refused");
  r = await ctl(nc, `${P}.link.put`, { source_id: "http", target: "caller", name: "chain", wit_namespace: "wasi",
                                       wit_package: "http", interfaces: ["incoming-handler"], source_config: ["chain-http"] });
  t.check(r.success === true, `link http-server -> caller (link name chain): ${r.message}`);
  const chain = await until("chain over HTTP", () => { const x = curl(`http://127.0.0.1:${chainPort}/`); return x[0] !== 0 && x; });
  t.check(chain[0] === 200, `caller -> middleware -> callee over HTTP: ${chain[0]} ${JSON.stringify(chain[1])}`);
  await ctl(nc, `${P}.link.del`, { source_id: "middleware", wit_namespace: "wasmcloud", wit_package: "example" });
  const broken = curl(`http://127.0.0.1:${chainPort}/`);
  t.check(broken[0] === 500, `chain without the middleware's link: 500 (${broken[0]})`);
  await ctl(nc, `${P}.link.put`, toCallee);
  t.check(curl(`http://127.0.0.1:${chainPort}/`)[0] === 200, "link restored: 200 again (routing is live)");

  // ---- wasi:config and wasi:logging served by the host
  const cfgWasm = testComponents && path.join(testComponents, "config_handler.wasm");
  if (cfgWasm && existsSync(cfgWasm)) {
    await ctl(nc, `${P}.config.put.app-base`, { greeting: "hello", extra: "x" });
    await ctl(nc, `${P}.config.put.app-over`, { greeting: "override" });
    await ctl(nc, `${P}.component.scale.${id1}`, { component_ref: `file://${cfgWasm}`, component_id: "cfg", count: 2, config: ["app-base", "no-such"] });
    const missing = await ev.find("component_scale_failed", (d) => d.component_id === "cfg");
    t.check(/Config no-such does not exist/.test(missing.ev.data.error), `scale with a missing named config fails (${missing.ev.data.error})`);
    await ctl(nc, `${P}.component.scale.${id1}`, { component_ref: `file://${cfgWasm}`, component_id: "cfg", count: 2, config: ["app-base", "app-over"] });
    await ev.find("component_scaled", (d) => d.component_id === "cfg", 30000);
    const cfgPort = await freePort();
    await ctl(nc, `${P}.config.put.cfg-http`, { address: `127.0.0.1:${cfgPort}` });
    await ctl(nc, `${P}.link.put`, { source_id: "http", target: "cfg", name: "cfg", wit_namespace: "wasi", wit_package: "http",
                                     interfaces: ["incoming-handler"], source_config: ["cfg-http"] });
    const get = (key) => curl(`http://127.0.0.1:${cfgPort}/config/${key}`);
    await until("config handler", () => get("extra")[0] === 200);
    t.check(get("greeting")[1] === "override" && get("extra")[1] === "x",
            "wasi:config: named configs merged in order, later names override");
    t.check(get("nope")[0] === 404, "wasi:config: a missing key is none");
    await ctl(nc, `${P}.config.put.app-over`, { greeting: "changed" });
    t.check(await until("live config", () => get("greeting")[1] === "changed").catch(() => false),
            "wasi:config: a config update applies live");
    await ctl(nc, `${P}.config.del.app-over`);
    t.check(await until("deleted config", () => get("greeting")[1] === "hello").catch(() => false),
            "wasi:config: a deleted config no longer overrides");
    t.check(curl(`http://127.0.0.1:${cfgPort}/log/hello-from-the-guest`)[1] === "logged\n", "wasi:logging: call answered");
    t.check(await until("guest log line", () => /component cfg config-handler: hello-from-the-guest/.test(h1.log)).catch(() => false),
            "wasi:logging: the guest's line is in the host log, with component id and context");
  } else {
    console.log("skip wasi:config/wasi:logging: no config_handler.wasm (tests/http/build_components.sh)");
  }

  // ---- labels
  r = await ctl(nc, `${P}.label.put.${id1}`, { key: "tier", value: "gold" });
  t.check(r.success === true, "label put: ack");
  const lc = await ev.find("labels_changed", (d) => d.labels && d.labels.tier === "gold");
  t.check(lc.ev.data.host_id === id1 && lc.ev.data.labels.zone === "a", "labels_changed: full label map");
  r = await ctl(nc, `${P}.label.put.${id1}`, { key: "HostCore.os", value: "x" });
  t.check(r.success === false && /hostcore/.test(r.message), "label put hostcore.*: refused");
  r = await ctl(nc, `${P}.label.del.${id1}`, { key: "tier" });
  t.check(r.success === true, "label del: ack");
  r = await ctl(nc, `${P}.label.del.${id1}`, { key: "tier" });
  t.check(r.success === true && /no such label/.test(r.message), "label del of a missing label: success");

  // ---- auctions: only matching hosts not running the component answer
  let acks = await scatter(nc, `${P}.component.auction`, { component_ref: "x", component_id: "fresh", constraints: { zone: "b" } });
  t.check(acks.length === 1 && acks[0].response.host_id === id2 && keys(acks[0].response) === "component_id,component_ref,constraints,host_id",
          `component auction with constraints: only the matching host (${acks.length})`);
  acks = await scatter(nc, `${P}.component.auction`, { component_ref: "x", component_id: "hello", constraints: {} });
  t.check(acks.length === 1 && acks[0].response.host_id === id2, "component auction: a host running the id declines");

  // ---- claims
  r = await ctl(nc, `${P}.claims.get`);
  const claim = (r.response || []).find((c) => c.sub === "MBFFVNGFK3IA2ZXXG5DQXQNYM6TNG45PHJMJIJFVFI6YKS3XTXL3DRRK");
  t.check(r.success === true && claim && claim.subject === claim.sub && claim.issuer === claim.iss && claim.rev === "0" &&
          claim.name === "http-hello-world" && claim.tags === "wasmcloud.com/experimental",
          "claims get: the signed component's claims, wasmCloud's string map");
  const kvClaims = await kv.get(`CLAIMS_${claim ? claim.sub : "x"}`);
  t.check(kvClaims && JSON.parse(new TextDecoder().decode(kvClaims.value)).name === "http-hello-world",
          "KV: CLAIMS_{subject} stored");

  // ---- scale to zero
  // (component.update above also published max_instances 0 for hello's old image: look only
  // at events caused by this request)
  const before = ev.events.length;
  r = await ctl(nc, `${P}.component.scale.${id1}`, { component_ref: fixture("http_hello_world_rust.wasm"), component_id: "hello", count: 0 });
  await ev.find("component_scaled", (d) => d.component_id === "hello" && d.max_instances === 0, 10000, before);
  r = await ctl(nc, `${P}.host.get.${id1}`);
  t.check(!r.response.components.some((c) => c.id === "hello"), "scale to 0: gone from the inventory");
  t.check(curl(`http://127.0.0.1:${port}/`)[0] === 503, "scale to 0: its route answers 503");

  // ---- lattice state survives a host killed with SIGKILL
  h1.kill("SIGKILL");
  await h1.exited;
  // link.get goes to a queue group: until nats-server notices the dead connection it may still
  // pick the killed host, and that request is lost (a NATS property, not the hosts'). Retry, as a
  // client would after a timeout.
  r = await ctlRetry(nc, `${P}.link.get`, undefined, 3, 2000);
  t.check(r.success === true && r.response.some((l) => l.source_id === "middleware" && l.target === "callee"),
          "after SIGKILL of a host: links still served (from KV) by the other host");
  const h3 = startHost(cumulus, url, lattice, hostArgs("c"));
  const id3 = await h3.idPromise;
  r = await ctl(nc, `${P}.config.get.greeting`);
  t.check(r.response && r.response.message === "hi", "config still there");
  // The new host routes with the stored links at once: run the chain on it.
  for (const [id, file] of [["caller", "inter_component_call_caller.wasm"], ["middleware", "inter_component_call_middleware.wasm"],
                            ["callee", "inter_component_call_callee.wasm"]]) {
    await ctl(nc, `${P}.component.scale.${id3}`, { component_ref: fixture(file), component_id: id, count: 1 });
    await ev.find("component_scaled", (d) => d.component_id === id && d.host_id === id3, 30000);
  }
  await ctl(nc, `${P}.provider.start.${id3}`, { provider_id: "http", provider_ref: "wasmcloud+builtin://http-server" });
  const again = await until("chain on the new host", () => { const x = curl(`http://127.0.0.1:${chainPort}/`); return x[0] !== 0 && x; });
  t.check(again[0] === 200, `a new host serves the chain from links stored in KV (${again[0]})`);

  // ---- provider stop, host stop
  r = await ctl(nc, `${P}.provider.stop.${id3}`, { provider_id: "http" });
  t.check(r.success === true, "provider stop: ack");
  await ev.find("provider_stopped", (d) => d.provider_id === "http" && d.reason === "stop");
  t.check(curl(`http://127.0.0.1:${chainPort}/`)[0] === 0, "provider stopped: its listener is closed");
  r = await ctl(nc, `${P}.provider.stop.${id3}`, { provider_id: "http" });
  t.check(r.success === false, "stopping it again: not running");
  for (const [h, id] of [[h2, id2], [h3, id3]]) {
    await ctl(nc, `${P}.host.stop.${id}`, {});
    t.check((await h.exited) === 0, "host stops cleanly with components running");
  }
  await nc.close();
}

main().catch((e) => { console.log(`FAIL ${e.stack || e}`); t.failures++; }).finally(async () => {
  await stopAll(stateDir);
  console.log(t.failures ? `${t.failures} check(s) failed` : "all lattice app checks passed");
  process.exit(t.failures ? 1 : 0);
});
