// The zdb manager on real network namespaces (run under the VM lock: it creates namespaces):
// a namespace deployed by twin 7 is reachable with redis-cli from inside twin 7's network
// namespace on the gateway address; twin 8's network cannot reach it at all, and through twin 8's
// own forwarder its private namespace is refused; a restarted service re-adopts data and
// forwarders; delete removes data, forwarders and sockets.
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createLogger } from "@zgrid/log";
import type { Deployment, WorkloadOf } from "@zgrid/types";
import type { WorkloadContext } from "../../engine/workload-manager.ts";
import { runHost } from "../../hypervisor/host-command.ts";
import type { NetworkResult } from "../network/network-manager.ts";
import { zdbManager } from "./zdb-manager.ts";
import { ZdbService } from "./zdb-service.ts";

// async: the service answering runs in this process (spawnSync would block it)
const cli = (ns: string, host: string, input: string, args: string[] = []) => new Promise<string[]>((resolve) => {
  const p = execFile("ip", ["netns", "exec", ns, "redis-cli", "-h", host, "-p", "9900", ...args], { encoding: "utf8", timeout: 10_000 }, (_e, stdout) => resolve(stdout.split("\n").filter(Boolean))); // redis-cli prints a blank line after an error
  p.stdin?.end(input);
});

test("zdb namespaces reachable from the owner's network only, adopted after restart, removed on delete", async (t) => {
  const tag = randomBytes(3).toString("hex");
  const dir = mkdtempSync(join(tmpdir(), "zdb-mgr-"));
  const nets = [{ twin: 7, ns: `zdb-a-${tag}`, gw: "10.77.1.1" }, { twin: 8, ns: `zdb-b-${tag}`, gw: "10.78.1.1" }];
  let service = new ZdbService({ dir: join(dir, "data") });
  t.after(async () => {
    await service.stop().catch(() => undefined);
    for (const f of existsSync(join(dir, "sock")) ? readdirSync(join(dir, "sock")) : []) {
      if (!f.endsWith(".pid")) continue;
      const pid = Number(readFileSync(join(dir, "sock", f), "utf8"));
      try { process.kill(-pid, "SIGKILL"); } catch { /* gone */ }
    }
    for (const n of nets) spawnSync("ip", ["netns", "del", n.ns]);
    rmSync(dir, { recursive: true, force: true });
  });
  for (const n of nets) {
    await runHost("ip", ["netns", "add", n.ns]);
    await runHost("ip", ["netns", "exec", n.ns, "ip", "link", "set", "lo", "up"]);
    await runHost("ip", ["netns", "exec", n.ns, "ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
    await runHost("ip", ["netns", "exec", n.ns, "ip", "addr", "add", `${n.gw}/24`, "dev", "v0"]);
    await runHost("ip", ["netns", "exec", n.ns, "ip", "link", "set", "v0", "up"]);
    await runHost("ip", ["netns", "exec", n.ns, "ip", "link", "set", "v1", "up"]);
  }
  const netOf = (n: (typeof nets)[number]): NetworkResult => ({ bridge: "", namespace: n.ns, gateway: n.gw, subnet: n.gw.replace(/1$/, "0/24"), prefix: 24, ip_range: "", wireguard: "", listen_port: 0 });
  const ctxOf = (twin: number, name: string): WorkloadContext => ({
    deployment: { twin_id: twin, contract_id: 1, workloads: [] } as unknown as Deployment,
    workloadId: `${twin}-1-${name}`, log: createLogger("test"), resultOf: () => undefined,
  });
  const wl = (data: Partial<WorkloadOf<"zdb">["data"]>) => ({ type: "zdb", name: "db", version: 0, data: { size: 1 << 20, mode: "user", password: "", public: false, ...data } }) as unknown as WorkloadOf<"zdb">;
  const mk = () => zdbManager({ service, sockDir: join(dir, "sock"), nodeEndpoints: [], networksOf: (ctx) => nets.filter((n) => n.twin === ctx.deployment.twin_id).map((n) => ({ name: "net", network: netOf(n) })) });
  let manager = mk();
  const [a, b] = nets as [(typeof nets)[number], (typeof nets)[number]];

  const r7 = await manager.provision(ctxOf(7, "db"), wl({}));
  assert.deepEqual(r7, { namespace: "7-1-db", endpoints: [{ address: a.gw, port: 9900, network: "net" }] });
  await manager.provision(ctxOf(8, "db"), wl({ password: "pw8" }));

  // from inside twin 7's network: no password needed for its own password-less namespace
  assert.deepEqual((await cli(a.ns, a.gw, "SELECT 7-1-db\nSET k hello\nGET k\nNSINFO 7-1-db\n")).slice(0, 3), ["OK", "k", "hello"]);
  // twin 8's network has no route to twin 7's address; through its own forwarder, twin 7's
  // namespace is refused and its own needs the password
  assert.equal((await cli(b.ns, a.gw, "", ["PING"])).includes("PONG"), false);
  assert.deepEqual(await cli(b.ns, b.gw, "SELECT 7-1-db\nSELECT 8-1-db\nSELECT 8-1-db wrong\nSELECT 8-1-db pw8\n"),
    ["Namespace protected and private: SELECT <namespace> <password>", "Namespace protected and private: SELECT <namespace> <password>", "Access denied: wrong password for this namespace", "OK"]);

  // a restarted service (new process state) re-opens the data; adopt re-creates the listeners
  const pidBefore = readFileSync(join(dir, "sock", `t7-${a.ns}.pid`), "utf8");
  await service.stop();
  service = new ZdbService({ dir: join(dir, "data") });
  manager = mk();
  assert.equal(await manager.adopt?.(ctxOf(7, "db"), wl({})), true);
  assert.equal(readFileSync(join(dir, "sock", `t7-${a.ns}.pid`), "utf8"), pidBefore, "the forwarder survived and was adopted");
  assert.deepEqual(await cli(a.ns, a.gw, "SELECT 7-1-db\nGET k\n"), ["OK", "hello"]);

  await manager.deprovision(ctxOf(7, "db"), wl({}));
  assert.equal(existsSync(join(dir, "data", "7-1-db")), false, "data removed");
  assert.equal(existsSync(join(dir, "sock", `t7-${a.ns}.pid`)), false, "forwarder removed");
  assert.equal(existsSync(`/proc/${Number(pidBefore)}/cmdline`) && !readFileSync(`/proc/${Number(pidBefore)}/stat`, "utf8").includes(") Z"), false, "socat gone");
  await manager.deprovision(ctxOf(8, "db"), wl({}));
  assert.deepEqual(readdirSync(join(dir, "sock")), []);
});

test("a network whose namespace is not there yet (a node restarting) never fails the namespace; alive brings its forwarder once it is, and again after it is killed", async (t) => {
  const tag = randomBytes(3).toString("hex");
  const dir = mkdtempSync(join(tmpdir(), "zdb-mgr-late-"));
  const ns = `zdb-c-${tag}`;
  const gw = "10.79.1.1";
  const service = new ZdbService({ dir: join(dir, "data") });
  const pidFile = join(dir, "sock", `t7-${ns}.pid`);
  t.after(async () => {
    await service.stop().catch(() => undefined);
    if (existsSync(pidFile)) try { process.kill(-Number(readFileSync(pidFile, "utf8")), "SIGKILL"); } catch { /* gone */ }
    spawnSync("ip", ["netns", "del", ns]);
    rmSync(dir, { recursive: true, force: true });
  });
  const network: NetworkResult = { bridge: "", namespace: ns, gateway: gw, subnet: "10.79.1.0/24", prefix: 24, ip_range: "", wireguard: "", listen_port: 0 };
  const ctx: WorkloadContext = { deployment: { twin_id: 7, contract_id: 2, workloads: [] } as unknown as Deployment, workloadId: "7-2-db", log: createLogger("test"), resultOf: () => undefined };
  const wl = { type: "zdb", name: "db", version: 0, data: { size: 1 << 20, mode: "user", password: "", public: false } } as unknown as WorkloadOf<"zdb">;
  const manager = zdbManager({ service, sockDir: join(dir, "sock"), nodeEndpoints: [], networksOf: () => [{ name: "net", network }] });

  // the network's namespace is not there: the namespace is served, its endpoint listed, nothing to forward yet
  assert.deepEqual(await manager.provision(ctx, wl), { namespace: "7-2-db", endpoints: [{ address: gw, port: 9900, network: "net" }] });
  assert.equal(await manager.alive?.(ctx, wl), true);
  // the network is made: alive says a forwarder is missing; adopt (what the engine runs then) starts it
  await runHost("ip", ["netns", "add", ns]);
  await runHost("ip", ["netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
  await runHost("ip", ["netns", "exec", ns, "ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
  await runHost("ip", ["netns", "exec", ns, "ip", "addr", "add", `${gw}/24`, "dev", "v0"]);
  await runHost("ip", ["netns", "exec", ns, "ip", "link", "set", "v0", "up"]);
  assert.equal(await manager.alive?.(ctx, wl), false);
  assert.equal(await manager.adopt?.(ctx, wl), true);
  assert.equal(await manager.alive?.(ctx, wl), true);
  assert.deepEqual(await cli(ns, gw, "SELECT 7-2-db\nSET k v\nGET k\n"), ["OK", "k", "v"]);
  // the forwarder killed: alive false, adopt starts a new one, the data is there
  const first = Number(readFileSync(pidFile, "utf8"));
  process.kill(-first, "SIGKILL");
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await manager.alive?.(ctx, wl), false);
  assert.equal(await manager.adopt?.(ctx, wl), true);
  assert.notEqual(Number(readFileSync(pidFile, "utf8")), first);
  assert.deepEqual(await cli(ns, gw, "SELECT 7-2-db\nGET k\n"), ["OK", "v"]);
  await manager.deprovision(ctx, wl);
});
