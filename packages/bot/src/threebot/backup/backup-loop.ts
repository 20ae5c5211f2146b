/**
 * The 3bot's backup loop: each pass, for every disk with `backup: <interval>` of every healthy
 * replica, a backup is due when the disk's last completed backup (the bot's DB) is older than the
 * interval. One backup runs at a time, in the background: a pass (and so a heal) never waits for
 * one. A completed backup is recorded only after its manifest is on the hub; a backup cut by a
 * crash leaves the previous record, and the next attempt uploads only the blocks still missing.
 * Without a hub configured, disks with `backup` are reported once per service and left alone.
 *
 * @example
 * ```ts
 * const backups = backupLoop(env, { hub: "http://hub:8080" });
 * backups.tick(specs, views); // each pass; starts at most one due backup
 * await backups.idle();       // on stop
 * ```
 */
import { nodeClient } from "@zgrid/client";
import type { BotEnv } from "../observe.ts";
import type { ServiceView } from "../reconcile-service.ts";
import type { ServiceSpec } from "../service-spec.ts";
import { backupNodeDisk, type NodeDiskBackupOptions } from "./disk-backup.ts";

export interface BackupLoopOptions {
  /** The twin's hub for backups; none: backups are not taken (reported once). */
  hub?: string;
  /** The backup itself (tests may slow it); default `backupNodeDisk`. */
  backup?: typeof backupNodeDisk;
}

export interface DueBackup {
  service: string;
  replica: string;
  contractId: number;
  nodeId: number;
  nodeTwinId: number;
  disk: string;
}

/** Due backups, oldest (never backed up first) first. */
export function dueBackups(env: Pick<BotEnv, "store" | "now">, specs: ServiceSpec[], views: ServiceView[]): DueBackup[] {
  const out: Array<DueBackup & { last: number }> = [];
  for (const s of specs) {
    const view = views.find((v) => v.name === s.name);
    for (const d of s.disks ?? []) {
      if (d.backup === undefined) continue;
      for (const r of view?.replicas ?? []) {
        if (r.state !== "healthy") continue;
        const last = env.store.lastBackup(s.name, r.name, d.name);
        if (last && env.now() - last.takenAt < d.backup) continue;
        out.push({ service: s.name, replica: r.name, contractId: r.contractId, nodeId: r.nodeId, nodeTwinId: r.nodeTwinId, disk: d.name, last: last?.takenAt ?? 0 });
      }
    }
  }
  return out.sort((a, b) => a.last - b.last).map(({ last: _l, ...d }) => d);
}

export function backupLoop(env: BotEnv, o: BackupLoopOptions = {}) {
  let running: Promise<void> | undefined;
  const warned = new Set<string>();
  const backup = o.backup ?? backupNodeDisk;
  const run = async (due: DueBackup, hub: string): Promise<void> => {
    const node: NodeDiskBackupOptions["node"] = nodeClient(await env.grid.bus(), due.nodeTwinId);
    try {
      const r = await backup({ node, contractId: due.contractId, name: due.disk, hub, key: env.grid.key });
      env.store.putBackup({ service: due.service, replica: due.replica, disk: due.disk, manifest: r.manifest, takenAt: r.takenAt, nodeId: due.nodeId, size: r.size, uploadedBlocks: r.uploadedBlocks });
      env.log(due.service, "backup", `disk ${due.disk} of ${due.replica} backed up (node ${due.nodeId}, ${r.blocks} blocks, ${r.uploadedBlocks} new, VM paused ${r.pausedMs} ms): manifest ${r.manifest.slice(0, 16)}…`);
    } catch (e) {
      env.log(due.service, "error", `backup of disk ${due.disk} of ${due.replica} failed: ${(e as Error).message.split("\n")[0]}`);
    }
  };
  return {
    /** Starts the most overdue backup unless one runs. Returns it (tests await it). */
    tick(specs: ServiceSpec[], views: ServiceView[]): Promise<void> | undefined {
      if (running) return undefined;
      const due = dueBackups(env, specs, views);
      if (due.length === 0) return undefined;
      if (!o.hub) {
        for (const d of due) if (!warned.has(d.service)) {
          warned.add(d.service);
          env.log(d.service, "error", `disk ${d.disk} has \`backup\` but the bot has no hub to back up to`);
        }
        return undefined;
      }
      const hub = o.hub;
      running = run(due[0]!, hub).finally(() => { running = undefined; });
      return running;
    },
    idle: async (): Promise<void> => { await running; },
  };
}

export type BackupLoop = ReturnType<typeof backupLoop>;
