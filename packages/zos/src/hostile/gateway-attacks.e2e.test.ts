// Hostile gateway traffic through a real zosd gateway node (a node host on the underlay with a
// domain): a hostile twin deploys a name gateway and an FQDN gateway (with its DNS proof) whose
// backends attack the node's HAProxy — one trickles its response head forever (slowloris), one
// never answers, one answers 64 KiB of headers — and attacks the frontend as a client: slowloris
// request heads, a 64 KiB request header, hundreds of idle connections. Meanwhile another twin's
// name gateway answers every request and zosd answers that twin promptly. The HAProxy bounds come
// from the node's config (`gateway.limits`, shortened here so the suite stays fast). Backends at
// the node itself or on its loopback (IPv4-mapped) are refused with the reason. A zosd SIGKILL and
// restart adopts both twins' networks in place (once, another twin's network failed re-adoption).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer as createHttpServer, request, type Server as HttpServer } from "node:http";
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { deploymentHashHex, networkNames, parseDeployment, signDeployment, type Deployment } from "@zgrid/types";
import type { Twin } from "../testing/node-fixture.ts";
import { startGridFixture, type GridFixture, type GridNode } from "../underlay/grid-fixture.ts";

const LIMITS = { serverTimeoutMs: 2_000, clientTimeoutMs: 5_000, requestTimeoutMs: 2_000, connectionsPerServer: 4, queueTimeoutMs: 1_000 };
const DOMAIN = "gw.hostile";
let g: GridFixture;
let node: GridNode;
const sockets = new Set<Socket>();
const servers: Array<Server | HttpServer> = [];
const timers: NodeJS.Timeout[] = [];

/** A backend on the underlay (the tenant's "internet"), counting the connections it holds at once. */
function backend<S extends Server | HttpServer>(s: S): Promise<{ server: S; url: string; max: () => number }> {
  let open = 0;
  let max = 0;
  s.on("connection", (c: Socket) => {
    c.on("error", () => undefined); // the proxy resets connections it gives up on
    sockets.add(c);
    max = Math.max(max, ++open);
    c.on("close", () => {
      open--;
      sockets.delete(c);
    });
  });
  servers.push(s);
  return new Promise((r) => s.listen(0, g.underlay.hostAddress, () => r({ server: s, url: `http://${g.underlay.hostAddress}:${(s.address() as AddressInfo).port}`, max: () => max })));
}

/** One request to the gateway node's HTTP frontend: its status, or 0 when nothing came within `waitMs`. */
function get(host: string, o: { waitMs?: number; headers?: Record<string, string> } = {}): Promise<number> {
  const waitMs = o.waitMs ?? 20_000;
  return new Promise((resolve) => {
    const req = request({ host: node.host.address, port: 80, headers: { host, ...o.headers }, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve(0);
    }, waitMs);
    req.on("close", () => clearTimeout(timer));
    req.on("error", () => resolve(-1)).end();
  });
}

/** A client that opens a request head and trickles a header line every 300 ms: ms until the proxy closes it. */
function slowClient(host: string, limitMs: number): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const c = connect(80, node.host.address, () => c.write(`GET / HTTP/1.1\r\nHost: ${host}\r\n`));
    const drip = setInterval(() => c.writable && c.write("X-Drip: 1\r\n"), 300);
    const give = setTimeout(() => c.destroy(), limitMs);
    c.on("error", () => undefined);
    c.on("data", () => undefined);
    c.on("close", () => {
      clearInterval(drip);
      clearTimeout(give);
      resolve(performance.now() - t0);
    });
  });
}

function json(twin: number, workloads: Array<Record<string, unknown>>, metadata: string) {
  return {
    version: 0, twin_id: twin, contract_id: 0, metadata, description: "",
    signature_requirement: { requests: [{ twin_id: twin, required: true, weight: 1 }], weight_required: 1 },
    workloads: workloads.map((w) => ({ version: 0, ...w })),
  };
}

async function deploy(owner: Twin, d: ReturnType<typeof json>, expect: "ok" | "error" = "ok"): Promise<Deployment> {
  const parsed = parseDeployment(d);
  const contractId = await owner.client.createNodeContract({ nodeId: node.nodeId, deploymentHash: deploymentHashHex(parsed) });
  const signed = signDeployment({ ...parsed, contract_id: contractId }, owner.id, owner.key);
  await owner.bus.request(node.twinId, "zos.deployment.deploy", signed, { timeout: 20_000 });
  const end = Date.now() + 60_000;
  for (;;) {
    const got = await owner.bus.request<Deployment>(node.twinId, "zos.deployment.get", { contract_id: contractId }, { timeout: 20_000 });
    if (got.workloads.every((w) => w.result && w.result.state !== "init")) {
      for (const w of got.workloads) assert.equal(w.result?.state, expect, `${w.name}: ${w.result?.message}`);
      return got;
    }
    assert.ok(Date.now() < end, `contract ${contractId} did not settle: ${JSON.stringify(got.workloads.map((w) => w.result))}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe("hostile gateway traffic through a zosd gateway node", { timeout: 300_000 }, () => {
  before(async () => {
    g = await startGridFixture({ nodes: 1, entrypoint: "#!/bin/sh\nexec sleep 100000\n", domain: DOMAIN, subnetOctet: 244, gatewayLimits: LIMITS });
    node = g.nodes[0]!;
  });
  after(async () => {
    for (const t of timers) clearInterval(t);
    for (const s of sockets) s.destroy();
    for (const s of servers) s.close();
    await g?.stop();
  });

  test("a hostile twin's name and FQDN gateways hit the proxy's bounds; another twin's gateway answers every request meanwhile", async (t) => {
    const slowloris = await backend(createServer((c) => c.once("data", () => {
      c.write("HTTP/1.1 200 OK\r\n");
      timers.push(setInterval(() => c.writable && c.write("X-Drip: 1\r\n"), 200));
    })));
    const silent = await backend(createServer(() => undefined));
    const huge = await backend(createHttpServer((_req, res) => {
      res.setHeader("x-huge", "h".repeat(64 * 1024));
      res.end("never relayed");
    }));
    const good = await backend(createHttpServer((_req, res) => res.end("good")));

    // The hostile twin holds its names and proves its domain; the other twin holds "good".
    await g.stranger.client.createNameContract("slowb");
    await g.stranger.client.createNameContract("hugeb");
    await g.user.client.createNameContract("good");
    g.dns.txt.set("_zgrid.silent.evil.example.org", [`zgrid-twin=${g.stranger.id}`]);
    await deploy(g.stranger, json(g.stranger.id, [
      { name: "slow", type: "gateway-name-proxy", data: { name: "slowb", backends: [slowloris.url] } },
      { name: "huge", type: "gateway-name-proxy", data: { name: "hugeb", backends: [huge.url] } },
      { name: "silent", type: "gateway-fqdn-proxy", data: { fqdn: "silent.evil.example.org", backends: [silent.url] } },
    ], "hostile-gateways"));
    await deploy(g.user, json(g.user.id, [{ name: "good", type: "gateway-name-proxy", data: { name: "good", backends: [good.url] } }], "good-gateway"));
    const goodHost = `good.${DOMAIN}`;
    const end = Date.now() + 30_000;
    while ((await get(goodHost, { waitMs: 3_000 })) !== 200) {
      assert.ok(Date.now() < end, "the good gateway never answered 200");
      await new Promise((r) => setTimeout(r, 300));
    }

    // Every attack at once: hostile backends (12 slowloris, 6 silent, 3 huge), hostile clients
    // (20 slowloris request heads, 3 requests with a 64 KiB header) and 300 idle connections.
    const attacks = [
      ...Array.from({ length: 12 }, () => get(`slowb.${DOMAIN}`, { waitMs: 10_000 })),
      ...Array.from({ length: 6 }, () => get("silent.evil.example.org")),
      ...Array.from({ length: 3 }, () => get(`hugeb.${DOMAIN}`)),
      ...Array.from({ length: 3 }, () => get(`slowb.${DOMAIN}`, { headers: { "x-big": "b".repeat(64 * 1024) } })),
    ];
    const slowClients = Array.from({ length: 20 }, () => slowClient(`slowb.${DOMAIN}`, 30_000));
    const idle = await Promise.all(Array.from({ length: 300 }, () => new Promise<Socket>((resolve) => {
      const c = connect(80, node.host.address, () => resolve(c));
      c.on("error", () => resolve(c));
    })));
    const idleClosed = Promise.all(idle.map((c) => new Promise<number>((r) => (c.destroyed ? r(0) : c.on("close", () => r(1))))));

    // Meanwhile the other twin: its gateway answers every request, zosd answers it promptly.
    const during: number[] = [];
    let slowestStats = 0;
    for (let i = 0; i < 20; i++) {
      during.push(await get(goodHost, { waitMs: 10_000 }));
      const t0 = performance.now();
      await g.user.bus.request(node.twinId, "zos.statistics.get", {}, { timeout: 20_000 });
      slowestStats = Math.max(slowestStats, performance.now() - t0);
      await new Promise((r) => setTimeout(r, 100));
    }
    const statuses = await Promise.all(attacks);
    const slowClientMs = await Promise.all(slowClients);
    const idleCut = await Promise.race([idleClosed, new Promise<undefined>((r) => setTimeout(() => r(undefined), 30_000))]);
    for (const c of idle) c.destroy();
    t.diagnostic(`other twin during the attacks: ${JSON.stringify(during)}; slowest zos.statistics.get ${slowestStats.toFixed(0)} ms`);
    t.diagnostic(`attack answers: ${JSON.stringify(statuses)}; slow clients closed after ${JSON.stringify(slowClientMs.map((m) => Math.round(m)))} ms; backends held at most slowloris ${slowloris.max()}, silent ${silent.max()}`);

    assert.deepEqual(during, Array(20).fill(200), "another twin's gateway failed during the attacks");
    assert.ok(slowestStats < 5_000, `zosd answered another twin in ${slowestStats.toFixed(0)} ms during the attacks`);
    // Hostile backends: cut after the server timeout (504) or refused after their queue turn (503).
    const slow = statuses.slice(0, 12);
    assert.ok(slow.every((s) => s === 504 || s === 503 || s === 0), `slowloris backend: ${JSON.stringify(slow)}`);
    assert.ok(slow.filter((s) => s === 503).length >= 12 - 2 * LIMITS.connectionsPerServer, `requests over the slowloris backend's share were not refused: ${JSON.stringify(slow)}`);
    const silentAnswers = statuses.slice(12, 18);
    assert.ok(silentAnswers.every((s) => s === 504 || s === 503) && silentAnswers.includes(504), `silent backend: ${JSON.stringify(silentAnswers)}`);
    assert.deepEqual(statuses.slice(18, 21), [502, 502, 502], "a backend's 64 KiB of headers is refused by the proxy");
    // Hostile clients: a 64 KiB request header is refused; slow request heads are cut.
    for (const s of statuses.slice(21)) assert.ok(s === 400 || s === 431 || s === -1, `a 64 KiB request header got ${s}`);
    for (const ms of slowClientMs) assert.ok(ms < 25_000, `a slowloris client was held ${ms.toFixed(0)} ms (request timeout ${LIMITS.requestTimeoutMs} ms)`);
    assert.ok(idleCut !== undefined, "idle connections were not closed by the proxy's request timeout");
    for (const [what, max] of [["slowloris", slowloris.max()], ["silent", silent.max()]] as const) {
      assert.ok(max <= LIMITS.connectionsPerServer, `the ${what} backend held ${max} connections at once (cap ${LIMITS.connectionsPerServer})`);
    }
    assert.equal(await get(goodHost), 200, "the other twin's gateway after the attacks");
  });

  test("backends at the gateway node itself, or loopback in IPv4-mapped form, are refused with the reason; no route is written", async () => {
    await g.stranger.client.createNameContract("probeb");
    const own = await deploy(g.stranger, json(g.stranger.id, [{ name: "own", type: "gateway-name-proxy", data: { name: "probeb", backends: [`http://${node.host.address}:80`] } }], "own-address"), "error");
    assert.match(own.workloads[0]!.result?.message ?? "", new RegExp(`${node.host.address.replaceAll(".", "\\.")} is an address of this node`));
    assert.equal(await get(`probeb.${DOMAIN}`), 404, "a refused gateway has no route");
    // What the client library refuses to build, sent raw and signed: the node refuses it too.
    const raw = json(g.stranger.id, [{ name: "mapped", type: "gateway-name-proxy", data: { name: "probeb", backends: ["http://[::ffff:127.0.0.1]:22"] } }], "mapped");
    const refusal = await g.stranger.bus.request(node.twinId, "zos.deployment.deploy", { ...raw, contract_id: 1 }, { timeout: 20_000 }).then(() => undefined, (e: Error & { code?: string }) => e);
    assert.ok(refusal, "the node accepted a mapped-loopback backend");
    assert.equal(refusal.code, "VALIDATION");
    assert.match(refusal.message, /loopback/);
  });

  test("after zosd is SIGKILLed and restarted, both twins' networks are adopted in place and the other twin's gateway still serves", async () => {
    const net = (subnet: number) => ({ name: "net", type: "network", data: { ip_range: "10.66.0.0/16", subnet: `10.66.${subnet}.0/24`, wireguard_private_key: randomBytes(32).toString("base64"), wireguard_listen_port: 52000 + subnet, peers: [] } });
    const twins = [g.user, g.stranger];
    const ids: Array<[Twin, number]> = [];
    for (const [i, twin] of twins.entries()) {
      g.trackNetwork(twin.id, "net");
      ids.push([twin, (await deploy(twin, json(twin.id, [net(i + 1)], `net-${i}`))).contract_id]);
    }
    const wgPid = (twin: Twin) => spawnSync("pgrep", ["-f", `^wireguard-go w-${networkNames(node.nodeId, twin.id, "net", node.account).id}$`], { encoding: "utf8" }).stdout.trim();
    const before = twins.map(wgPid);
    assert.ok(before.every((p) => /^\d+$/.test(p)), `wireguard-go of both networks: ${JSON.stringify(before)}`);
    node.kill();
    await node.start();
    await new Promise((r) => setTimeout(r, 5_000)); // the start-up adoption pass and a reconcile or two
    for (const [twin, id] of ids) {
      const d = await twin.bus.request<Deployment>(node.twinId, "zos.deployment.get", { contract_id: id }, { timeout: 20_000 });
      assert.equal(d.workloads[0]!.result?.state, "ok", `twin ${twin.id}'s network after the restart: ${d.workloads[0]!.result?.message}`);
    }
    assert.deepEqual(twins.map(wgPid), before, "the networks were adopted in place (same wireguard-go), not re-created");
    assert.equal(await get(`good.${DOMAIN}`), 200, "the other twin's gateway after the restart");
  });
});
