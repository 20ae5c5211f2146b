// Hostile gateway backends, end to end through the node's real gateway: the gateway managers
// (egress policy on every backend) and HaproxyGateway running a real HAProxy, clients speaking
// HTTP to it. A backend that never answers, one that trickles its response head (slowloris), one
// that sends huge headers: each fails only its own gateway with a clear HTTP status, holds at most
// its share of the proxy's connections, and another tenant's gateway keeps answering meanwhile.
// Backends at the node's own addresses, the grid's services, loopback in IPv4-mapped form, the
// tenant networks' ndmz, or another twin's network are refused before any route is written.
// (No namespaces: the attack backends listen on this host's loopback, allowed by config only here.)
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer, request, type Server as HttpServer } from "node:http";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createLogger } from "@zgrid/log";
import type { Deployment, WorkloadOf } from "@zgrid/types";
import { EgressPolicy } from "../../egress/egress-policy.ts";
import type { WorkloadContext } from "../../engine/workload-manager.ts";
import type { NetworkResult } from "../network/network-manager.ts";
import { NETWORK_GONE, gatewayManagers } from "./gateway-managers.ts";
import { HaproxyGateway } from "./haproxy-gateway.ts";

const log = createLogger("test.gateway-attacks");
const LIMITS = { serverTimeoutMs: 1_500, requestTimeoutMs: 2_000, connectionsPerServer: 4, queueTimeoutMs: 1_000 };
const HOST_IP = Object.values(networkInterfaces()).flat().find((a) => a && a.family === "IPv4" && !a.internal)?.address;

const port = (s: Server | HttpServer) => (s.address() as AddressInfo).port;
const listen = <S extends Server | HttpServer>(s: S) => new Promise<S>((r) => s.listen(0, "127.0.0.1", () => r(s)));

/** One request through the gateway: its status, or 0 when nothing came back within `waitMs` (held). */
function get(gwPort: number, host: string, waitMs = 20_000): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: gwPort, headers: { host }, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ status: 0, ms: performance.now() - t0 });
    }, waitMs);
    req.on("close", () => clearTimeout(timer));
    req.on("error", (e) => (performance.now() - t0 < waitMs ? reject(new Error(`${host}: ${e.message}`)) : undefined)).end();
  });
}

function ctxOf(twin: number, name: string): WorkloadContext {
  const deployment = { twin_id: twin, contract_id: twin * 100, version: 0, workloads: [] } as unknown as Deployment;
  return { deployment, workloadId: `${twin}-${twin * 100}-${name}`, log, resultOf: () => undefined };
}
const gw = (name: string, fqdn: string, backends: string[], network?: string) =>
  ({ version: 0, name, type: "gateway-fqdn-proxy", metadata: "", description: "", data: { fqdn, tls_passthrough: false, backends, ...(network ? { network } : {}) } }) as unknown as WorkloadOf<"gateway-fqdn-proxy">;

test("hostile backends fail only their own gateway, bounded in connections; backends at the host, services, ndmz or another twin's network are refused", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zgw-attack-"));
  const sockets = new Set<Socket>();
  const servers: Array<Server | HttpServer> = [];
  const timers: NodeJS.Timeout[] = [];
  const track = <S extends Server | HttpServer>(s: S): S => {
    s.on("connection", (c: Socket) => {
      c.on("error", () => undefined); // the proxy resets connections it gives up on
      sockets.add(c);
      c.on("close", () => sockets.delete(c));
    });
    servers.push(s);
    return s;
  };
  // Ports picked by the OS for HAProxy's frontends.
  const free = async () => {
    const s = await listen(createServer());
    const p = port(s);
    await new Promise((r) => s.close(r));
    return p;
  };
  const proxy = new HaproxyGateway({ dir, httpPort: await free(), httpsPort: await free(), limits: LIMITS });
  t.after(async () => {
    await proxy.stopProxy();
    for (const timer of timers) clearInterval(timer);
    for (const s of sockets) s.destroy();
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // The attack backends and a well-behaved one (another tenant's).
  let silentOpen = 0;
  let silentMax = 0;
  const silent = await listen(track(createServer((c) => {
    silentOpen++;
    silentMax = Math.max(silentMax, silentOpen);
    c.on("close", () => silentOpen--);
  })));
  let slowOpen = 0;
  let slowMax = 0;
  const slowloris = await listen(track(createServer((c) => {
    slowOpen++;
    slowMax = Math.max(slowMax, slowOpen);
    c.on("close", () => slowOpen--);
    c.once("data", () => {
      c.write("HTTP/1.1 200 OK\r\n");
      timers.push(setInterval(() => c.writable && c.write("X-Drip: 1\r\n"), 200));
    });
  })));
  const huge = await listen(track(createHttpServer((_req, res) => {
    res.setHeader("x-huge", "h".repeat(64 * 1024));
    res.end("never seen");
  })));
  const good = await listen(track(createHttpServer((_req, res) => res.end("ok"))));
  const allowed = [silent, slowloris, huge, good].map((s) => `127.0.0.1:${port(s)}`);

  const policy = new EgressPolicy({ allow: allowed, services: ["http://85.9.9.50:8545"] });
  const otherTwinNet = { bridge: "b", namespace: "n-twin8", gateway: "10.8.2.1", subnet: "10.8.2.0/24", prefix: 24, ip_range: "10.8.0.0/16", wireguard: "w", listen_port: 6000 } as NetworkResult;
  const m = gatewayManagers({
    domain: "gw.test", names: { contractIdByName: () => Promise.resolve(0), getContract: () => Promise.reject(new Error("unused")) }, proxy, policy,
    findNetwork: (ctx, name) => (ctx.deployment.twin_id === 8 && name === "net" ? otherTwinNet : undefined),
  }).fqdn;

  // Refused before any route exists: the host, the grid's services, mapped loopback, the ndmz, another twin's network.
  const refusals: Array<[string, RegExp, string?]> = [
    ["http://[::ffff:127.0.0.1]:22", /::ffff:127\.0\.0\.1|127\.0\.0\.1.* is a loopback address/],
    ["http://85.9.9.50:8545", /85\.9\.9\.50 is an address of the grid's services/],
    ["http://100.127.1.1:80", /100\.127\.1\.1 is an address of the node's tenant networks/],
    ["http://10.8.2.5:80", new RegExp(`^${NETWORK_GONE} the network 'net' of twin 9`), "net"],
  ];
  if (HOST_IP) refusals.push([`http://${HOST_IP}:8545`, new RegExp(`${HOST_IP.replaceAll(".", "\\.")} is (an address of this node|a reserved address)`)]);
  for (const [i, [backend, why, network]] of refusals.entries()) {
    const fqdn = `refused${i}.example.org`;
    await assert.rejects(m.provision(ctxOf(9, `r${i}`), gw(`r${i}`, fqdn, [backend], network)), (e: Error) => why.test(e.message), backend);
    assert.equal(proxy.owner(fqdn), undefined, `${backend}: a route was written`);
  }

  // Four tenants' gateways on the same proxy.
  await m.provision(ctxOf(1, "silent"), gw("silent", "silent.example.org", [`http://127.0.0.1:${port(silent)}`]));
  await m.provision(ctxOf(2, "slow"), gw("slow", "slow.example.org", [`http://127.0.0.1:${port(slowloris)}`]));
  await m.provision(ctxOf(3, "huge"), gw("huge", "huge.example.org", [`http://127.0.0.1:${port(huge)}`]));
  await m.provision(ctxOf(4, "good"), gw("good", "good.example.org", [`http://127.0.0.1:${port(good)}`]));
  const front = Number(/frontend http\n {2}bind :(\d+)/.exec(proxy.config())![1]);
  assert.equal((await get(front, "good.example.org")).status, 200);

  // The attacks all at once: 12 requests to the slowloris backend, 6 to the silent one, 3 huge.
  const attacks = [
    ...Array.from({ length: 12 }, () => get(front, "slow.example.org", 5_000)),
    ...Array.from({ length: 6 }, () => get(front, "silent.example.org")),
    ...Array.from({ length: 3 }, () => get(front, "huge.example.org")),
  ];
  // Meanwhile the other tenant is served, every time.
  const during: number[] = [];
  for (let i = 0; i < 20; i++) {
    during.push((await get(front, "good.example.org")).status);
    await new Promise((r) => setTimeout(r, 50));
  }
  const settled = await Promise.allSettled(attacks);
  assert.deepEqual(during, Array(20).fill(200), "another tenant's gateway failed during the attack");
  const statuses = settled.map((s) => (s.status === "fulfilled" ? s.value.status : String(s.reason)));
  t.diagnostic(`attack answers: ${JSON.stringify(statuses)}; the slowloris backend held at most ${slowMax} connections, the silent one ${silentMax}`);
  // The silent backend: cut after the server timeout (504), or refused after its queue turn
  // (503) while its share of connections is taken — never a hang.
  const silentAnswers = statuses.slice(12, 18);
  assert.ok(silentAnswers.every((s) => s === 504 || s === 503) && silentAnswers.includes(504), `silent backend: ${JSON.stringify(silentAnswers)}`);
  // Huge headers: refused by the proxy (502), its body never relayed.
  assert.deepEqual(statuses.slice(18), Array(3).fill(502), "huge headers");
  // The slowloris backend (response head dripping forever) is cut like the silent one: what it
  // holds is its own share of connections, every other request to it waits its turn and gets 503.
  const slow = statuses.slice(0, 12);
  assert.ok(slow.every((s) => s === 504 || s === 503 || s === 0), `slowloris answers: ${JSON.stringify(slow)}`);
  assert.ok(slow.filter((s) => s === 503).length >= 12 - 2 * LIMITS.connectionsPerServer, `requests over the slowloris backend's share were not refused: ${JSON.stringify(slow)}`);
  for (const [what, max] of [["slowloris", slowMax], ["silent", silentMax]] as const) {
    assert.ok(max <= LIMITS.connectionsPerServer, `the ${what} backend held ${max} connections at once (cap ${LIMITS.connectionsPerServer})`);
  }

  // Deleting the gateways leaves the proxy serving only what remains; the last one stops it.
  for (const [twin, name] of [[1, "silent"], [2, "slow"], [3, "huge"]] as const) await m.deprovision(ctxOf(twin, name), gw(name, `${name}.example.org`, []));
  assert.equal((await get(front, "good.example.org")).status, 200);
  assert.equal((await get(front, "slow.example.org")).status, 404);
  await m.deprovision(ctxOf(4, "good"), gw("good", "good.example.org", []));
});
