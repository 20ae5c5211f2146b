/**
 * Restore at heal (issue 16): a replica re-placed because its node died (or it failed) gets the
 * lost replica's disks back from their last backups before it is served.
 *
 * Design: **deploy, hold stopped, restore, start.** The node API has a clean, idempotent
 * `zos.zmachine.action` (stop holds the VM stopped until `start`, across node restarts) and a
 * restore write route that works only while no VM runs on the disk (`zos.zmount.write`), while
 * the SDK's deploy makes the VM and its disks in one deployment; a two-step deploy (disks first,
 * the VM added by an update) would need a second deploy path in the SDK and a deployment the bot
 * does not yet know how to observe. The cost of this design, said plainly: the new VM boots once
 * on its empty disk (for the seconds between its deploy and the stop) before the restore; that
 * boot's writes are wiped by the restore (the disk is emptied first) and no client reaches it —
 * the replica counts as `starting` ("restoring …") until the restore is done and the VM started
 * again, so the gateway never sends it traffic and the lost replica is not yet given up.
 *
 * Crash safety: the restore is planned in the bot's DB (`restores`, one row per disk, with the
 * backup's manifest) BEFORE the new replica is deployed. A pass after a SIGKILL finds the row:
 * `pending` → stop (idempotent), empty the disk and write the backup again, `restored` → start,
 * `done` → served. A row whose replica never came to exist (not on chain, start window over) is dropped.
 *
 * A backup that is missing on the hub or fails verification is never silently skipped (that
 * would drop the old data): the restore is retried with a growing delay (10 s … 10 min), at most
 * `RESTORE_MAX_ATTEMPTS` times, the error in the row (`zgrid bot status`, "restores" table) and
 * in the events; then the row is `failed` and the replica stays stopped and out of service. A
 * restart of the bot retries failed restores once more (fix the hub first). A lost replica that
 * never had a backup has nothing to restore: the new one starts empty, and an event says so.
 *
 * @example
 * ```ts
 * const restores = restoreRunner(env, { hub });
 * restores.tick(env.restoreReady); // after each pass (holdRestoring fills it): starts at most one restore, in the background
 * ```
 */
import { nodeClient, type NodeClient } from "@zgrid/client";
import type { DiskRestoreRecord } from "../bot-store.ts";
import type { BotEnv, Replica } from "../observe.ts";
import type { ServiceSpec } from "../service-spec.ts";
import { restoreNodeDisk } from "./disk-restore.ts";

export const RESTORE_MAX_ATTEMPTS = 6;

/** The delay before attempt `n + 1` after `n` failed ones (ms). */
export function restoreBackoffMs(attempts: number): number {
  return attempts === 0 ? 0 : Math.min(10_000 * 2 ** (attempts - 1), 600_000);
}

/** The manifest a replica's disk would come back from: its last backup, else the restore it got itself. */
function sourceBackup(env: Pick<BotEnv, "store">, service: string, replica: string, disk: string): { manifest: string; takenAt: number } | undefined {
  const b = env.store.lastBackup(service, replica, disk);
  if (b) return b;
  const r = env.store.restores(service).find((x) => x.replica === replica && x.disk === disk);
  return r ? { manifest: r.manifest, takenAt: r.takenAt } : undefined;
}

/**
 * The replicas a heal replaces whose data a new replica should take over: lost and failed ones not
 * already taken over by a live replica's restore.
 */
export function healSources(env: Pick<BotEnv, "store">, s: ServiceSpec, replaced: Replica[], live: Replica[]): Replica[] {
  const liveNames = new Set(live.map((r) => r.name));
  const claimed = new Set(env.store.restores(s.name).filter((r) => liveNames.has(r.replica)).map((r) => r.source));
  return replaced.filter((r) => !claimed.has(r.name));
}

/**
 * Plans the restore of `replica`'s disks from `source`'s last backups (called once the new replica's
 * name is known, before its deploy). Returns the disks planned.
 */
export function planHealRestore(env: Pick<BotEnv, "store" | "log" | "now">, s: ServiceSpec, source: string, replica: string): string[] {
  const planned: string[] = [];
  for (const d of s.disks ?? []) {
    const b = sourceBackup(env, s.name, source, d.name);
    if (!b) {
      if (d.backup !== undefined) env.log(s.name, "restore", `disk ${d.name} of ${source} was never backed up: ${replica} starts with it empty`);
      continue;
    }
    env.store.planRestore({ service: s.name, replica, disk: d.name, source, manifest: b.manifest, takenAt: b.takenAt }, env.now());
    planned.push(d.name);
  }
  if (planned.length) env.log(s.name, "restore", `${replica} replaces ${source}: disk(s) ${planned.join(", ")} will be restored from their last backup before it is served`);
  return planned;
}

/**
 * Replicas with an unfinished restore are held out of service: `starting` (so the gateway does not
 * use them, no other replica is placed for them, the replica they replace is kept, no backup of
 * them is taken), with the restore's state as message. Lost, missing and unreachable ones keep
 * their state (a heal or cleanup handles them). Returns the held replicas (to be restored), by name.
 */
export function holdRestoring(env: Pick<BotEnv, "store" | "now" | "startTimeoutMs">, s: ServiceSpec, replicas: Replica[]): Map<string, Replica> {
  // rows of replicas that never came to exist (a deploy cut by a crash): dropped after the start
  // window. Called right after the observation, before this pass places anything: a row of a
  // replica being deployed was planned in this pass, after this point, and is not seen here.
  const names = new Set(replicas.map((r) => r.name));
  for (const row of env.store.restores(s.name)) {
    if (!names.has(row.replica) && env.now() - row.createdAt > env.startTimeoutMs) env.store.dropRestores(s.name, row.replica);
  }
  const rows = env.store.restores(s.name).filter((r) => r.state !== "done");
  const ready = new Map<string, Replica>();
  for (const r of replicas) {
    const mine = rows.filter((x) => x.replica === r.name);
    if (mine.length === 0 || r.state === "lost" || r.state === "missing" || r.state === "unreachable") continue;
    // the SDK's deploy returned before the pass ended, so the node has it (a stop of a VM that is
    // not there yet fails and counts as an attempt: bounded)
    ready.set(r.name, { ...r });
    const failed = mine.find((x) => x.state === "failed");
    r.state = "starting";
    r.message = failed
      ? `restore FAILED after ${failed.attempts} attempts (${failed.error}); kept stopped so the old data is not dropped — fix the hub, then restart the bot to retry`
      : `restoring disk(s) ${mine.map((x) => x.disk).join(", ")} from ${mine[0]!.source}'s backup${mine.some((x) => x.error) ? ` (last error: ${mine.find((x) => x.error)!.error})` : ""}`;
  }
  return ready;
}

export interface RestoreRunnerOptions {
  hub?: string;
  /** The disk restore (tests may break it); default `restoreNodeDisk`. */
  restore?: typeof restoreNodeDisk;
  /** The node of a replica (tests); default `nodeClient` over the grid's bus. */
  node?: (nodeTwinId: number) => Promise<Pick<NodeClient, "diskWrite" | "vmAction">>;
}

/**
 * Restores one replica: each pending disk's attempt is counted in the DB first (a restore that
 * kills the bot is bounded too), then stop (held), restore the pending disks, start.
 */
async function restoreReplica(env: BotEnv, o: RestoreRunnerOptions & { hub: string }, r: Replica, rows: DiskRestoreRecord[]): Promise<void> {
  const node = o.node ? await o.node(r.nodeTwinId) : nodeClient(await env.grid.bus(), r.nodeTwinId);
  const restore = o.restore ?? restoreNodeDisk;
  const target = { contract_id: r.contractId, name: r.name };
  const pending = rows.filter((x) => x.state === "pending" || x.state === "failed").map((x) => ({ ...x, attempts: x.attempts + 1 }));
  for (const row of pending) env.store.setRestore(row.service, row.replica, row.disk, { state: "pending", attempts: row.attempts, error: row.error }, env.now());
  let row: (typeof pending)[number] | undefined;
  try {
    if (pending.length) await node.vmAction({ ...target, action: "stop" }, { timeout: 60_000 });
    for (row of pending) {
      const done = await restore({ node, contractId: r.contractId, name: row.disk, hub: o.hub, key: env.grid.key, manifest: row.manifest });
      env.store.setRestore(row.service, row.replica, row.disk, { state: "restored", attempts: row.attempts, error: "" }, env.now());
      env.log(row.service, "restore", `disk ${row.disk} of ${row.replica} restored from ${row.source}'s backup of ${new Date(row.takenAt).toISOString()} (${done.blocks} blocks)`);
    }
  } catch (e) {
    const error = (e as Error).message.split("\n")[0]!;
    for (const x of pending.filter((p) => p === row || pending.indexOf(p) > pending.indexOf(row ?? pending[0]!))) {
      const failed = x.attempts >= RESTORE_MAX_ATTEMPTS;
      env.store.setRestore(x.service, x.replica, x.disk, { state: failed ? "failed" : "pending", attempts: x.attempts, error }, env.now());
      env.log(x.service, "error", `restore of disk ${x.disk} of ${x.replica} failed (attempt ${x.attempts}/${RESTORE_MAX_ATTEMPTS}): ${error}${failed ? `; giving up: ${x.replica} stays stopped and out of service (its data is not dropped) — fix the hub and restart the bot to retry` : ""}`);
    }
    return;
  }
  await node.vmAction({ ...target, action: "start" }, { timeout: 60_000 });
  for (const x of rows) env.store.setRestore(x.service, x.replica, x.disk, { state: "done", attempts: pending.find((p) => p.disk === x.disk)?.attempts ?? x.attempts, error: "" }, env.now());
  env.health.delete(r.contractId); // the health streak of the stopped time does not count against it
  env.log(rows[0]!.service, "restore", `${r.name} started on its restored disk(s): served once healthy`);
}

/**
 * Runs the restores held by `holdRestoring`, one replica at a time, in the background (a pass
 * never waits). Without a hub, held replicas are reported and stay held.
 */
export function restoreRunner(env: BotEnv, o: RestoreRunnerOptions = {}) {
  let running: Promise<void> | undefined;
  const warned = new Set<string>();
  // a restart retries restores that had given up (the owner was told to fix the hub, then restart)
  for (const r of env.store.restores()) if (r.state === "failed") env.store.setRestore(r.service, r.replica, r.disk, { state: "pending", attempts: RESTORE_MAX_ATTEMPTS - 2, error: r.error }, env.now());
  return {
    /** `ready`: per service, the held replicas the node has (from `holdRestoring`). Returns the started restore. */
    tick(ready: Map<string, Map<string, Replica>>): Promise<void> | undefined {
      if (running) return undefined;
      for (const [service, replicas] of ready) {
        for (const r of replicas.values()) {
          const rows = env.store.restores(service).filter((x) => x.replica === r.name && x.state !== "done");
          if (rows.length === 0 || rows.some((x) => x.state === "failed")) continue;
          if (!o.hub) {
            if (!warned.has(r.name)) env.log(service, "error", `${r.name} waits for a restore but the bot has no hub (\`zgrid bot run --backup-hub URL\`)`);
            warned.add(r.name);
            continue;
          }
          const last = Math.max(...rows.map((x) => x.attempts));
          if (last > 0 && env.now() - Math.max(...rows.map((x) => x.updatedAt)) < restoreBackoffMs(last)) continue;
          const hub = o.hub;
          running = restoreReplica(env, { ...o, hub }, r, rows)
            .catch((e: unknown) => env.log(service, "error", `restore of ${r.name}: ${(e as Error).message.split("\n")[0]}`))
            .finally(() => { running = undefined; });
          return running;
        }
      }
      return undefined;
    },
    idle: async (): Promise<void> => { await running; },
  };
}

export type RestoreRunner = ReturnType<typeof restoreRunner>;
