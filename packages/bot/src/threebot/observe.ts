/**
 * What is actually there for a service, read fresh on every pass (level-based): its replica VM
 * contracts on chain, each replica's state on its node (over the bus), the liveness of the node.
 *
 * @example
 * ```ts
 * const replicas = await observeReplicas(env, spec, contracts);
 * replicas.filter((r) => r.state === "healthy").length;
 * ```
 */
import type { ContractInfo, Grid } from "@zgrid/client";
import { nodeClient, parseMetadata } from "@zgrid/client";
import type { ZmachineResult } from "@zgrid/types";
import type { BotMetrics } from "../metrics/bot-metrics.ts";
import type { BotStore } from "./bot-store.ts";
import { judgeHealth, runHealthCheck, type HealthStreak } from "./health-check.ts";
import type { NodeLiveness } from "./node-liveness.ts";
import { replicaHash, serviceProject, type ServiceSpec } from "./service-spec.ts";

export type ReplicaState =
  /** Running and passing its health check. */
  | "healthy"
  /** Contract made, not running yet (within the start window). */
  | "starting"
  /** The node reports an error, or it did not start in time. */
  | "failed"
  /** Its node did not answer this pass but is not (yet) dead: kept, not served. */
  | "unreachable"
  /** Its node is dead. */
  | "lost"
  /** A contract without a deployment on its (alive) node: made by an interrupted run. */
  | "missing";

export interface Replica {
  name: string;
  contractId: number;
  nodeId: number;
  nodeTwinId: number;
  ip: string;
  /** Its public IPv4 (services with `public_ip`), "" otherwise or not known yet. */
  publicIp?: string;
  hash: string;
  generation: number;
  state: ReplicaState;
  message: string;
  /** Its disks as its node has them (MiB); unknown when the node was not read. */
  disks?: Array<{ name: string; size: number }>;
  /** Whether its deployment has a public IP workload (unknown when the node was not read). */
  publicIpWorkload?: boolean;
  /**
   * A movable service's replica whose node's farm wants the node off (its power target is down on
   * chain: the farmerbot vacates it): re-placed elsewhere, make-before-break (reconcile-service.ts).
   */
  vacating?: boolean;
}

export interface BotEnv {
  grid: Grid;
  store: BotStore;
  liveness: NodeLiveness;
  /** Heals are counted here (`zgrid_bot_heals_total{kind,outcome}`). */
  metrics: BotMetrics;
  /** This process run (a pending op of another run was interrupted by a crash). */
  run: string;
  /** Health-check streaks by replica contract (pruned each pass to live contracts). */
  health: Map<number, HealthStreak>;
  /**
   * Replicas taken out of the gateway to be retired (contract id → when): cancelled only after
   * `drainMs`, so the gateway finishes the requests it still has on them (their server is in maintenance: no new ones).
   */
  draining: Map<number, number>;
  drainMs: number;
  /** How long a replica may take to start (ms). */
  startTimeoutMs: number;
  /** A contract with no deployment is cancelled after this (ms) unless an interrupted op explains it sooner. */
  orphanGraceMs: number;
  now(): number;
  log(service: string, kind: string, message: string): void;
  /** Per service, the healed replicas held for a disk restore that their node has (set each pass; `heal-restore.ts`). */
  restoreReady?: Map<string, Map<string, Replica>>;
}

const MiB = 1024 * 1024;

/** Node id → node twin id, cached (node records do not change twins). */
const twins = new Map<number, number>();
export async function nodeTwinOf(grid: Grid, nodeId: number): Promise<number> {
  let t = twins.get(nodeId);
  if (t === undefined) {
    t = (await grid.chain.getNode(nodeId)).twinId;
    twins.set(nodeId, t);
  }
  return t;
}

export async function observeReplicas(env: BotEnv, s: ServiceSpec, contracts: ContractInfo[]): Promise<Replica[]> {
  const project = serviceProject(s);
  const mine = contracts.filter((c) => c.metadata?.kind === "vm" && c.metadata.project === project && c.state !== "deleted");
  const interrupted = new Set(env.store.pendingOps().filter((o) => o.run !== env.run && o.kind === "deploy").map((o) => o.replica));
  const bus = await env.grid.bus();
  // each version is judged by its own health check (an update's new check never fails the old replicas)
  const previous = env.store.previousService(s.name);
  const specOf = (hash: string): ServiceSpec => (hash === replicaHash(s) ? s : previous && replicaHash(previous) === hash ? previous : { ...s, health: { type: "state" } });
  // whether a node's farm wants it off: one chain read per node and pass, only for a movable service
  const targetDown = new Map<number, Promise<boolean>>();
  const isTargetDown = (nodeId: number): Promise<boolean> => {
    let p = targetDown.get(nodeId);
    if (!p) targetDown.set(nodeId, p = env.grid.chain.getNode(nodeId).then((n) => n.power.target === "down", () => false));
    return p;
  };
  return Promise.all(mine.map(async (c): Promise<Replica> => {
    const name = c.metadata!.name;
    const nodeTwinId = await nodeTwinOf(env.grid, c.nodeId);
    env.liveness.watch(c.nodeId, nodeTwinId);
    const base: Omit<Replica, "state"> = { name, contractId: c.id, nodeId: c.nodeId, nodeTwinId, ip: "", hash: c.metadata!.spec ?? "", generation: Number(name.split("_").pop()) || 0, message: "" };
    const age = env.now() - env.store.firstSeen(c.id, env.now());
    if (env.liveness.state(c.nodeId) === "dead") return { ...base, state: "lost", message: `node ${c.nodeId} is dead` };
    if (s.movable && (await isTargetDown(c.nodeId))) {
      base.vacating = true;
      base.message = `node ${c.nodeId} is being vacated by its farm; re-placed elsewhere`;
    }
    let d;
    try {
      d = await nodeClient(bus, nodeTwinId).get(c.id, { timeout: 4_000 });
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "DEPLOYMENT_NOT_FOUND" && (interrupted.has(name) || age > env.orphanGraceMs)) return { ...base, state: "missing", message: "no deployment on its node" };
      if (code === "DEPLOYMENT_NOT_FOUND") return { ...base, state: age > env.startTimeoutMs ? "failed" : "starting", message: "not on its node yet" };
      return { ...base, state: "unreachable", message: `node did not answer: ${code ?? String(e)}` };
    }
    // the hash the node runs: an in-place update cut by a crash between the chain and the node leaves the chain's metadata ahead
    const running = parseMetadata(d.metadata ?? "")?.spec;
    if (running) base.hash = running;
    base.publicIpWorkload = d.workloads.some((x) => x.type === "ip");
    base.disks = d.workloads.filter((x) => x.type === "zmount").map((x) => ({ name: x.name, size: Math.ceil(Number((x.data as { size?: number }).size ?? 0) / MiB) }));
    const w = d.workloads.find((x) => x.type === "zmachine");
    const data = (w?.result?.data ?? {}) as Partial<ZmachineResult>;
    const wd = (w?.data ?? {}) as { network?: { interfaces?: Array<{ ip: string }> } };
    const pub = (d.workloads.find((x) => x.type === "ip")?.result?.data ?? {}) as { ip?: string };
    const ip = data.ip ?? wd.network?.interfaces?.[0]?.ip ?? "";
    if (pub.ip) base.publicIp = pub.ip;
    const st = w?.result?.state;
    if (st === "ok") {
      const h = specOf(base.hash).health;
      const verdict = judgeHealth(env.health, c.id, await runHealthCheck(env, specOf(base.hash), { contractId: c.id, name, nodeTwinId }), { retries: "retries" in h ? h.retries : 1 });
      const detail = env.health.get(c.id)?.detail ?? "";
      if (verdict === "healthy") return { ...base, ip, state: "healthy" };
      if (verdict === "failing") return { ...base, ip, state: "healthy", message: `health check failing (${env.health.get(c.id)?.failures ?? 0} in a row): ${detail}` };
      if (verdict === "unhealthy") return { ...base, ip, state: "failed", message: `unhealthy: ${detail}` };
      return { ...base, ip, state: age > env.startTimeoutMs ? "failed" : "starting", message: `running, health check not passed yet${detail ? `: ${detail}` : ""}` };
    }
    if (st === "error" || st === "deleted") return { ...base, ip, state: "failed", message: w?.result?.message ?? st };
    return { ...base, ip, state: age > env.startTimeoutMs ? "failed" : "starting", message: st ?? "init" };
  }));
}
