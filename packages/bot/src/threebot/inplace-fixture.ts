/**
 * Test support for the in-place rolling tests: whole reconcile passes over real libp2p buses and
 * the bot's real SQLite store. SIMULATED, labelled: the node (`zos.deployment.get` answered from a
 * table; each replica's disk is a string an in-place update keeps and a cancel drops; a gateway
 * deployment whose backends the bot updates) and the SDK's grid (contract list, `vms.update` that
 * moves the chain's metadata then the node's deployment, deploy/cancel recorded in `calls`).
 *
 * @example
 * ```ts
 * const h = await inPlaceHarness(t, true);
 * h.add("db_1", 11, 1, spec); await h.pass(h.envOf(store, "r1")); h.calls; // ["gateway → db_1"]
 * ```
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestGrid, testTwinKey } from "@zgrid/bus/testing";
import { encodeMetadata, type Grid } from "@zgrid/client";
import { NODE_ROUTES } from "@zgrid/types";
import { createBotMetrics } from "../metrics/bot-metrics.ts";
import type { BotStore } from "./bot-store.ts";
import type { BotEnv } from "./observe.ts";
import { reconcileService } from "./reconcile-service.ts";
import { replicaHash, type ServiceSpec } from "./service-spec.ts";

const MiB = 1024 * 1024;
const FLIST = "http://127.0.0.1:1/app.flist";
/** A service `db` with one 8 MiB disk, 2 replicas; `o` overrides. */
export const service = (o: Record<string, unknown> = {}) => ({ name: "db", flist: FLIST, replicas: 2, disks: [{ name: "data", size: 8, mountpoint: "/data" }], ...o });

interface SimReplica { name: string; contractId: number; nodeId: number; chainHash: string; nodeHash: string; flist: string; disks: Array<{ name: string; size: number }>; data: string; boots: number; cancelled: boolean }

export async function inPlaceHarness(t: { after(fn: () => Promise<void>): void }, withGateway = false) {
  const buses = new TestGrid();
  const [node, owner] = await buses.buses(2);
  const dir = mkdtempSync(join(tmpdir(), "bot-inplace-"));
  t.after(async () => { await buses.close(); rmSync(dir, { recursive: true, force: true }); });
  const sim = new Map<number, SimReplica>();
  const calls: string[] = [];
  let crashUpdate = false;
  let refuse = false;
  const silent = new Set<number>();
  // node power on chain (a farm vacating a node sets its target down); `deploys`: vms.deploy places on node 4
  const power = new Map<number, { target: "up" | "down"; state: "up" | "down" }>();
  let deploys = false;
  // SIMULATED gateway node (same node bus): a gateway-name-proxy deployment whose backends the bot updates (order recorded)
  const gw = { contractId: 99, version: 1, backends: [] as string[] };
  node!.handle(NODE_ROUTES.update.name, async (p: unknown) => {
    const d = p as { contract_id: number; version: number; workloads: Array<{ type: string; data: { backends: string[] } }> };
    gw.version = d.version;
    gw.backends = [...d.workloads.find((w) => w.type === "gateway-name-proxy")!.data.backends];
    calls.push(`gateway → ${gw.backends.map((b) => nameOfIp(b)).join(", ") || "none"}`);
    return { contract_id: d.contract_id, accepted: true };
  });
  const nameOfIp = (backend: string) => [...sim.values()].find((r) => backend.includes(`//10.20.2.${r.contractId}:`))?.name ?? backend;
  // SIMULATED node: the deployment of each replica; a VM of flist ".../broken.flist" errors, a
  // fresh (re)start is "init" for one read, then "ok"
  node!.handle(NODE_ROUTES.get.name, async (p: unknown) => {
    if ((p as { contract_id: number }).contract_id === gw.contractId) {
      return {
        version: gw.version, twin_id: owner!.twinId, contract_id: gw.contractId, metadata: "", description: "", expiration: 0,
        signature_requirement: { requests: [], weight_required: 1, signatures: [], signature_style: "" },
        workloads: [{ version: gw.version, name: "gw_shop", type: "gateway-name-proxy", metadata: "", description: "", data: { name: "shop", backends: gw.backends, tls_passthrough: false, network: "bdb" }, result: { created: 1, state: "ok", message: "" } }],
      };
    }
    const r = sim.get((p as { contract_id: number }).contract_id);
    if (!r || r.cancelled) throw Object.assign(new Error("no deployment"), { code: "DEPLOYMENT_NOT_FOUND" });
    if (silent.has(r.contractId)) throw Object.assign(new Error("the node is busy"), { code: "NODE_BUSY" });
    const state = r.flist.includes("broken") ? "error" : r.boots > 0 ? "init" : "ok";
    if (r.boots > 0) r.boots--;
    const result = (s: string) => ({ created: 1, state: s, message: s === "error" ? "the app exited 1" : "" });
    return {
      version: 1, twin_id: owner!.twinId, contract_id: r.contractId, metadata: encodeMetadata({ kind: "vm", name: r.name, network: "bdb", project: "3bot.db", spec: r.nodeHash }),
      description: "", expiration: 0, signature_requirement: { requests: [], weight_required: 1, signatures: [], signature_style: "" },
      workloads: [
        ...r.disks.map((d) => ({ version: 1, name: d.name, type: "zmount", metadata: "", description: "", data: { size: d.size * MiB }, result: result("ok") })),
        { version: 1, name: r.name, type: "zmachine", metadata: "", description: "", data: { flist: r.flist }, result: { ...result(state), data: { ip: `10.20.2.${r.contractId}` } } },
      ],
    };
  });
  // SIMULATED SDK grid
  const grid = {
    key: testTwinKey(owner!.twinId), twinId: owner!.twinId,
    bus: async () => owner,
    chain: { getNode: async (id: number) => ({ twinId: node!.twinId, power: power.get(id) ?? { target: "up", state: "up" } }), updateNodeContract: async () => undefined },
    nodes: { list: async () => [{ nodeId: 4 }] }, // a free node: a replica placed by mistake would show as a deploy
    contracts: {
      list: async () => [
        ...[...sim.values()].map((r) => ({ id: r.contractId, nodeId: r.nodeId, state: r.cancelled ? "deleted" : "created", metadata: { v: 1, kind: "vm", name: r.name, network: "bdb", project: "3bot.db", spec: r.chainHash } })),
        ...(withGateway ? [{ id: gw.contractId, nodeId: 1, state: "created", metadata: { v: 1, kind: "gateway", name: "shop", vm: "db", project: "3bot.db" } }] : []),
      ],
      cancel: async (id: number) => { calls.push(`cancel ${sim.get(id)!.name}`); sim.get(id)!.cancelled = true; },
    },
    vms: {
      deploy: async (m: { name: string; node: number; flist: string }, o: { spec: string; movable?: boolean }) => {
        calls.push(`deploy ${m.name}${deploys ? ` on node ${m.node}${o.movable ? " (movable)" : ""}` : ""}`);
        if (!deploys) throw new Error("no node in this test");
        const contractId = Math.max(0, ...sim.keys()) + 1;
        sim.set(contractId, { name: m.name, contractId, nodeId: m.node, chainHash: o.spec, nodeHash: o.spec, flist: m.flist, disks: [], data: "", boots: 1, cancelled: false });
        return { name: m.name, contractId, ip: `10.20.2.${contractId}` };
      },
      update: async (name: string, m: { flist: string; disks: Array<{ name: string; size: number }> }, o: { spec: string }) => {
        const r = [...sim.values()].find((x) => x.name === name)!;
        r.chainHash = o.spec; // the chain first (as DeployTransaction.update), then the node
        if (crashUpdate) return new Promise(() => undefined); // SIGKILL (simulated): the bot dies here, before the node gets the update
        if (refuse) throw new Error(`node ${r.nodeId} refused the update: not enough memory`);
        calls.push(`update ${name} → ${o.spec}`);
        Object.assign(r, { nodeHash: o.spec, flist: m.flist, disks: m.disks.map((d) => ({ name: d.name, size: d.size })), boots: 1 });
        return { name, contractId: r.contractId };
      },
    },
  } as unknown as Grid;
  const events: string[] = [];
  let now = 1_000_000_000;
  const dead = new Set<number>();
  const envOf = (store: BotStore, run: string): BotEnv => ({
    grid, store, run, metrics: createBotMetrics({ bot: "3bot", twin: owner!.twinId }),
    liveness: { watch: () => undefined, state: (id: number) => (dead.has(id) ? "dead" : "alive"), dead: () => [...dead] },
    health: new Map(), draining: new Map(), drainMs: 0, startTimeoutMs: 180_000, orphanGraceMs: 600_000,
    now: () => now, log: (s: string, kind: string, m: string) => void events.push(`${s} ${kind}: ${m}`), restoreReady: new Map(),
  }) as unknown as BotEnv;
  const add = (name: string, contractId: number, nodeId: number, s: ServiceSpec) => {
    const h = replicaHash(s);
    sim.set(contractId, { name, contractId, nodeId, chainHash: h, nodeHash: h, flist: s.flist, disks: s.disks.map((d) => ({ name: d.name, size: d.size })), data: `written by ${name} at ${h}`, boots: 0, cancelled: false });
  };
  const pass = async (env: BotEnv) => {
    const s = env.store.services()[0]!;
    return reconcileService(env, s, await env.grid.contracts.list());
  };
  return { sim, calls, events, envOf, add, pass, dbPath: join(dir, "3bot.db"), dead, silent, power, allowDeploys: () => { deploys = true; }, advance: (ms: number) => { now += ms; }, crash: (on: boolean) => { crashUpdate = on; }, refuse: (on: boolean) => { refuse = on; } };
}

/** Each replica's contract and what its disk holds. */
export const disksOf = (h: Awaited<ReturnType<typeof inPlaceHarness>>) => [...h.sim.values()].map((r) => `${r.name}@${r.contractId}: ${r.data}`);
