/**
 * The 3bot: a twin's own long-running agent. It holds the twin key (through its Grid connection),
 * talks only to the chain and to nodes over the bus, keeps its desired state and journal in an
 * embedded database, and runs a level-based loop: every `intervalMs` (and at once after an apply
 * or a node state change) it reads chain + nodes and converges each service (place, heal, roll,
 * point the gateway, cancel lost/outdated/orphan contracts). Its owner talks to it through the
 * database (`zgrid bot apply|status` on the same machine): each pass stores a status snapshot
 * there; from anywhere over the bus (`bot-bus.ts`: `bot.status`, `bot.events`, served under a key
 * derived from the twin key, answered only to the owner).
 *
 * @example
 * ```ts
 * const bot = await startThreebot({ grid, dbPath: "/var/lib/zgrid/3bot.db", windowMs: 30_000 });
 * await bot.apply({ services: [{ name: "web", flist, replicas: 2, gateway: { name: "shop" } }] });
 * bot.status(); await bot.stop();
 * ```
 */
import { randomBytes } from "node:crypto";
import type { Grid } from "@zgrid/client";
import { nodeClient } from "@zgrid/client";
import { createLogger } from "@zgrid/log";
import { createBotMetrics, type BotMetrics } from "../metrics/bot-metrics.ts";
import { backupLoop } from "./backup/backup-loop.ts";
import { restoreRunner } from "./backup/heal-restore.ts";
import { openBotStore, type BotEvent, type BotStore, type DiskBackupRecord, type DiskRestoreRecord } from "./bot-store.ts";
import { watchBalance } from "./balance-watch.ts";
import { topUpFromAllowance, type TopUpState } from "./top-up.ts";
import { cancelOrphans, dropRowsOfRemovedServices } from "./contract-hygiene.ts";
import { NodeLiveness, type LivenessOptions } from "./node-liveness.ts";
import type { BotEnv } from "./observe.ts";
import { reconcileService, type ServiceView } from "./reconcile-service.ts";
import { checkServiceDataLoss } from "./rolling-inplace.ts";
import { parseBotSpec, type BotSpec } from "./service-spec.ts";

const log = createLogger("bot.threebot");

export interface ThreebotOptions extends LivenessOptions {
  grid: Grid;
  /** The embedded database (":memory:" for tests that do not restart). */
  dbPath: string;
  /** Pass interval (ms, default 5 000). */
  intervalMs?: number;
  orphanGraceMs?: number;
  /** A replica taken out of the gateway is cancelled this long after (ms, default 5 000). */
  drainMs?: number;
  startTimeoutMs?: number;
  /** A `balance` warning when the balance lasts less than this at the current burn (hours, default 72). */
  warnHours?: number;
  /** Top up the twin from a funder's ERC-20 allowance when the runway drops below `warnHours`. */
  topUp?: { from: `0x${string}`; maxPerTopUp: bigint };
  /** Where heals are counted (`zgrid_bot_heals_total`); a fresh set of counters by default. */
  metrics?: BotMetrics;
  /** The twin's hub that disks with `backup: <interval>` are backed up to (encrypted with the twin key). */
  backupHub?: string;
}

export interface BotStatus {
  twinId: number;
  run: string;
  passes: number;
  lastPassAt: number;
  services: ServiceView[];
  nodes: ReturnType<NodeLiveness["snapshot"]>;
  /** The twin's balance (token units) and its runway at the live contracts' burn. */
  balance?: { tokens: number; burnPerHour: number; hoursLeft: number | null };
  /** The last completed backup of each backed-up disk (`takenAt`: what a restore brings back). */
  backups?: DiskBackupRecord[];
  /** Heals' disk restores not done yet (a `failed` one keeps its replica stopped and out of service). */
  restores?: DiskRestoreRecord[];
}

export interface Threebot {
  /** Stores the desired state (`allowDataLoss`: go ahead when a disk is removed or made smaller). */
  apply(spec: unknown, o?: { allowDataLoss?: boolean }): Promise<{ services: string[] }>;
  remove(names: string[]): { removed: string[] };
  status(): BotStatus;
  events(o?: { service?: string; limit?: number }): BotEvent[];
  /** Runs one pass now (waits for a running one first). */
  pass(): Promise<void>;
  stop(): Promise<void>;
  readonly store: BotStore;
  readonly liveness: NodeLiveness;
  /** Its counters (heals by kind and outcome), for `serveBotMetrics`. */
  readonly metrics: BotMetrics;
}

export async function startThreebot(o: ThreebotOptions): Promise<Threebot> {
  const grid = o.grid;
  const store = openBotStore(o.dbPath);
  const run = `${process.pid}-${randomBytes(4).toString("hex")}`;
  let wake: (() => void) | undefined;
  // a change seen while a pass runs (a node died, an apply) makes the next pass start at once
  // instead of after the interval: a heal does not wait a whole interval plus a pass
  let again = false;
  const nudge = () => {
    again = true;
    wake?.();
  };
  const liveness = new NodeLiveness({
    probe: async (twin, ms) => nodeClient(await grid.bus(), twin).version({ timeout: ms }),
    lastUptimeReport: async (id) => Number((await grid.chain.getNode(id)).lastUptimeReport),
    onChange: (nodeId, state, d) => {
      env.log("", "node", `node ${nodeId} is ${state}${d.failures ? ` (${d.failures} probe(s) failed, silent ${Math.round(d.silentMs / 1000)} s)` : ""}`);
      if (state === "dead" || state === "alive") nudge();
    },
  }, o);
  const metrics = o.metrics ?? createBotMetrics({ bot: "3bot", twin: grid.twinId });
  const env: BotEnv = {
    grid, store, liveness, run, metrics, now: () => Date.now(), health: new Map(), draining: new Map(), drainMs: o.drainMs ?? 5_000,
    restoreReady: new Map(), startTimeoutMs: o.startTimeoutMs ?? 180_000, orphanGraceMs: o.orphanGraceMs ?? 300_000,
    log: (service, kind, message) => {
      store.event({ service, kind, message });
      log.info({ service, kind }, message);
    },
  };
  const backups = backupLoop(env, o.backupHub ? { hub: o.backupHub } : {});
  const restores = restoreRunner(env, o.backupHub ? { hub: o.backupHub } : {});
  let views: ServiceView[] = [];
  let passes = 0;
  let lastPassAt = 0;
  let running: Promise<void> | undefined;
  let balanceAt = 0;
  let balance: BotStatus["balance"];
  const warned = { lastWarnAt: -Infinity };
  const topUpState: TopUpState = { lastTopUpAt: -Infinity, lastRefusalAt: -Infinity };
  let stopped = false;

  const onePass = async () => {
    const specs = store.services();
    if (store.takeApplyRequest()) env.log("", "apply", `desired state: ${specs.map((s) => `${s.name} ×${s.replicas}`).join(", ") || "(none)"}`);
    const contracts = await grid.contracts.list();
    const live = new Set(contracts.filter((c) => c.state !== "deleted").map((c) => c.id));
    for (const id of env.health.keys()) if (!live.has(id)) env.health.delete(id);
    for (const id of env.draining.keys()) if (!live.has(id)) env.draining.delete(id);
    const next: ServiceView[] = [];
    env.restoreReady?.clear();
    for (const s of specs) {
      try {
        next.push(await reconcileService(env, s, contracts));
      } catch (e) {
        env.log(s.name, "error", `pass failed: ${(e as Error).message.split("\n")[0]}`);
      }
    }
    dropRowsOfRemovedServices(env, specs.map((s) => s.name));
    const after = await grid.contracts.list();
    await cancelOrphans(env, after, new Set(store.services().map((s) => s.name)));
    if (Date.now() - balanceAt >= 60_000) {
      balanceAt = Date.now();
      const r = await watchBalance(env, after, warned, o.warnHours ?? 72).catch((e: unknown) => { log.warn({ err: String(e) }, "balance check failed"); return undefined; });
      if (r) balance = { tokens: Number(r.balance) / 1e7, burnPerHour: r.burnPerHour / 1e7, hoursLeft: Number.isFinite(r.hoursLeft) ? r.hoursLeft : null };
      if (r && o.topUp) {
        await topUpFromAllowance(env, r, { ...o.topUp, warnHours: o.warnHours ?? 72 }, topUpState)
          .catch((e: unknown) => env.log("", "topup", `top-up failed: ${(e as Error).message.split("\n")[0]}`));
      }
    }
    // pending ops of earlier runs are settled by the pass above (level-based): close them
    for (const op of store.pendingOps()) if (op.run !== run) store.finishOp(op.id, "failed");
    views = next;
    void backups.tick(specs, next); // in the background: a pass never waits for a backup
    void restores.tick(env.restoreReady ?? new Map()); // nor for a heal's restore
    passes++;
    lastPassAt = Date.now();
    store.putStatus(bot.status());
  };
  const pass = (): Promise<void> => {
    running ??= onePass().catch((e: unknown) => log.warn({ err: String(e) }, "pass failed")).finally(() => { running = undefined; });
    return running;
  };
  let loop: Promise<void> = Promise.resolve();
  // an apply written by `zgrid bot apply` while the bot runs wakes it within a second
  const poll = setInterval(() => { if (store.hasApplyRequest()) nudge(); }, 1_000);
  poll.unref();
  const bot: Threebot = {
    store, liveness, metrics,
    async apply(raw, ao) {
      const r = applyToStore(store, raw, ao);
      nudge();
      return r;
    },
    remove(names) {
      const removed = names.filter((n) => store.services().some((s) => s.name === n));
      for (const n of removed) store.removeService(n);
      if (removed.length) env.log("", "apply", `removed service(s) ${removed.join(", ")}`);
      nudge();
      return { removed };
    },
    status: () => {
      const done = store.backups();
      const restoring = store.restores().filter((r) => r.state !== "done");
      return { twinId: grid.twinId, run, passes, lastPassAt, services: views, nodes: liveness.snapshot(), ...(balance ? { balance } : {}), ...(done.length ? { backups: done } : {}), ...(restoring.length ? { restores: restoring } : {}) };
    },
    events: (q) => store.events(q),
    pass,
    async stop() {
      stopped = true;
      clearInterval(poll);
      wake?.();
      liveness.stop();
      await loop;
      await backups.idle();
      await restores.idle();
      store.close();
    },
  };
  liveness.start();
  loop = (async () => {
    while (!stopped) {
      again = false;
      await pass();
      if (stopped) break;
      if (again) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, o.intervalMs ?? 5_000);
        wake = () => { clearTimeout(t); resolve(); };
      });
      wake = undefined;
    }
  })();

  return bot;
}

/**
 * Stores a spec as the desired state and flags it for the bot (also from another process: the
 * running bot takes it within a second). BotInputError on a bad spec; BotDataLossError (nothing
 * stored) when a service's disk is removed or made smaller, unless `allowDataLoss`.
 *
 * @example
 * ```ts
 * applyToStore(openBotStore(path), { services: [{ name: "web", flist, replicas: 2 }] });
 * ```
 */
export function applyToStore(store: BotStore, raw: unknown, o: { allowDataLoss?: boolean } = {}): { services: string[] } {
  const spec: BotSpec = parseBotSpec(raw);
  // a change that destroys disk data (a disk removed or shrunk) is refused unless opted in; nothing stored then
  const known = new Map(store.services().map((s) => [s.name, s]));
  for (const s of spec.services) checkServiceDataLoss(known.get(s.name), s, o.allowDataLoss === true);
  // --replace removes the services the file does not list: with disks, that destroys their data too
  if (spec.replace) for (const s of known.values()) if (!spec.services.some((x) => x.name === s.name)) checkServiceDataLoss(s, { ...s, disks: [] }, o.allowDataLoss === true);
  if (spec.replace) for (const s of store.services()) if (!spec.services.some((x) => x.name === s.name)) store.removeService(s.name);
  for (const s of spec.services) store.putService(s);
  store.requestApply();
  return { services: spec.services.map((s) => s.name) };
}
