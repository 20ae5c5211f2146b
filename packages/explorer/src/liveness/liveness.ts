/**
 * The explorer's own twin asks every registered node for `zos.statistics.get` (and
 * `zos.system.version`) over the bus on a schedule, and records when it last answered, what it can
 * still give and its version. Answers are untrusted: numbers are checked and bounded, a node that
 * sends garbage counts as not answering. A few nodes are asked at once; each question has a timeout.
 *
 * @example
 * ```ts
 * const live = new LivenessChecker({ db, bus, intervalMs: 15_000 });
 * live.start();
 * await live.checkOnce();
 * await live.stop();
 * ```
 */
import type { Bus } from "@zgrid/bus";
import { createLogger } from "@zgrid/log";
import { NODE_ROUTES } from "@zgrid/types";
import type { Db } from "../db/db.ts";

const log = createLogger("explorer.liveness");
const GIB = 2 ** 30;
/** vCPUs a node sells per core (the node's capacity ledger uses the same number). */
const CPU_OVERCOMMIT = 4;
const MAX = 2 ** 50;

export interface Capacity { cru: number; mru: number; sru: number; hru: number }
export interface NodeAnswer { total: Capacity; used: Capacity; system: Capacity; deployments: number; workloads: number; version: string }

export interface LivenessOptions {
  db: Db;
  bus: Pick<Bus, "request">;
  /** How often each node is asked (default 15 s). */
  intervalMs?: number;
  /** Per-question timeout (default 4 s). */
  timeoutMs?: number;
  /** Nodes asked at once (default 8). */
  concurrency?: number;
  /** Called after each round with the node ids whose up/down answer changed. */
  onChange?: (nodeIds: number[]) => void;
}

/** Parses a statistics answer; undefined when it is not one (a hostile or broken node). */
export function parseStatistics(raw: unknown, version: unknown): NodeAnswer | undefined {
  const cap = (v: unknown): Capacity | undefined => {
    if (!v || typeof v !== "object") return undefined;
    const o = v as Record<string, unknown>;
    const out = { cru: 0, mru: 0, sru: 0, hru: 0 };
    for (const k of ["cru", "mru", "sru", "hru"] as const) {
      const x = o[k] ?? 0;
      if (typeof x !== "number" || !Number.isFinite(x) || x < 0 || x > MAX) return undefined;
      out[k] = Math.floor(x);
    }
    return out;
  };
  if (!raw || typeof raw !== "object") return undefined;
  const r = raw as Record<string, unknown>;
  const total = cap(r.total), used = cap(r.used), system = r.system === undefined ? { cru: 0, mru: 0, sru: 0, hru: 0 } : cap(r.system);
  const users = (r.users ?? {}) as Record<string, unknown>;
  const count = (x: unknown) => (typeof x === "number" && Number.isSafeInteger(x) && x >= 0 && x < 1e9 ? x : 0);
  if (!total || !used || !system) return undefined;
  const v = version && typeof version === "object" ? (version as Record<string, unknown>).zos : undefined;
  return { total, used, system, deployments: count(users.deployments), workloads: count(users.workloads), version: typeof v === "string" ? v.slice(0, 64) : "" };
}

/** What a node can still give: total (vCPUs overcommitted) − its system reserve − used. */
export function freeCapacity(a: NodeAnswer): Capacity {
  const sys = { ...a.system, mru: a.system.mru || Math.max(Math.floor(a.total.mru * 0.1), 2 * GIB) };
  const f = (k: keyof Capacity, mult = 1) => Math.max(0, a.total[k] * mult - sys[k] - a.used[k]);
  return { cru: f("cru", CPU_OVERCOMMIT), mru: f("mru"), sru: f("sru"), hru: f("hru") };
}

export class LivenessChecker {
  readonly #o: LivenessOptions;
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #stopped = true;
  #lastUp = new Map<number, boolean>();

  constructor(o: LivenessOptions) {
    this.#o = o;
  }

  start(): void {
    this.#stopped = false;
    const tick = () => {
      this.#round = this.checkOnce().catch((e: unknown) => log.warn({ err: e }, "liveness round failed")).finally(() => {
        if (!this.#stopped) this.#timer = setTimeout(tick, this.#o.intervalMs ?? 15_000);
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#round;
  }

  /** Asks every live (not deleted) node once. */
  async checkOnce(): Promise<void> {
    const nodes = await this.#o.db.all<{ id: number; twin_id: number }>("SELECT id, twin_id FROM nodes WHERE deleted = 0 ORDER BY id");
    const queue = [...nodes];
    const changed: number[] = [];
    const worker = async () => {
      for (let n = queue.shift(); n; n = queue.shift()) {
        const ok = await this.#check(Number(n.id), Number(n.twin_id));
        if (this.#lastUp.get(Number(n.id)) !== ok) changed.push(Number(n.id));
        this.#lastUp.set(Number(n.id), ok);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#o.concurrency ?? 8, queue.length) }, worker));
    if (changed.length > 0) this.#o.onChange?.(changed.sort((a, b) => a - b));
  }

  async #check(nodeId: number, twinId: number): Promise<boolean> {
    const timeout = this.#o.timeoutMs ?? 4_000;
    const now = Date.now();
    let answer: NodeAnswer | undefined;
    try {
      const [stats, version] = await Promise.all([
        // route names from the node API table (@zgrid/types); the answers are read leniently below
        // (parseStatistics: a node of an older version may lack `system`), not by the strict schema
        this.#o.bus.request(twinId, NODE_ROUTES.statistics.name, {}, { timeout }),
        this.#o.bus.request(twinId, NODE_ROUTES.version.name, {}, { timeout }).catch(() => undefined),
      ]);
      answer = parseStatistics(stats, version);
      if (!answer) log.warn({ nodeId }, "node sent malformed statistics; counted as not answering");
    } catch (e) {
      log.debug({ nodeId, err: e }, "node did not answer");
    }
    const db = this.#o.db;
    if (!answer) {
      await db.run(`INSERT INTO node_live (node_id, last_seen, last_try, failures, version, free_cru, free_mru, free_sru, free_hru,
          used_cru, used_mru, used_sru, used_hru, deployments, workloads) VALUES (?, 0, ?, 1, '', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        ON CONFLICT (node_id) DO UPDATE SET last_try = excluded.last_try, failures = node_live.failures + 1`, [nodeId, now]);
      return false;
    }
    const free = freeCapacity(answer);
    const u = answer.used;
    await db.tx(async (t) => {
      await t.run(`INSERT INTO node_live (node_id, last_seen, last_try, failures, version, free_cru, free_mru, free_sru, free_hru,
          used_cru, used_mru, used_sru, used_hru, deployments, workloads) VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (node_id) DO UPDATE SET last_seen = excluded.last_seen, last_try = excluded.last_try, failures = 0, version = excluded.version,
          free_cru = excluded.free_cru, free_mru = excluded.free_mru, free_sru = excluded.free_sru, free_hru = excluded.free_hru,
          used_cru = excluded.used_cru, used_mru = excluded.used_mru, used_sru = excluded.used_sru, used_hru = excluded.used_hru,
          deployments = excluded.deployments, workloads = excluded.workloads`,
      [nodeId, now, now, answer.version, free.cru, free.mru, free.sru, free.hru, u.cru, u.mru, u.sru, u.hru, answer.deployments, answer.workloads]);
      await t.run(`INSERT INTO node_capacity (node_id, at, used_cru, used_mru, used_sru, used_hru, deployments) VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (node_id, at) DO NOTHING`, [nodeId, now, u.cru, u.mru, u.sru, u.hru, answer.deployments]);
      // keep a bounded history: samples older than 7 days go
      await t.run("DELETE FROM node_capacity WHERE node_id = ? AND at < ?", [nodeId, now - 7 * 86_400_000]);
    });
    return true;
  }
}
