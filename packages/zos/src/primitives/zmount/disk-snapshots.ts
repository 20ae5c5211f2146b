/**
 * Disk snapshots for backups (node API `diskSnapshotOpen/Read/Close`, issue 16): the deployment's
 * own twin (the engine's `get` refuses anyone else) takes a crash-consistent copy of one of its
 * zmount disks and reads it in bounded chunks; the node never holds a backup key (the caller
 * encrypts what it reads), which is why it is a read route and not a node-side backup job.
 *
 * Crash-consistent: when a running VM has the disk attached, the VM is paused (QMP `stop`) for the
 * copy and resumed after, so the copy is the disk as at one instant — what a power cut would leave,
 * which ext4's journal recovers. On this node's ext4 `cp --sparse=always` copies only the disk's
 * used extents; the pause lasts as long as that copy (reported as `paused_ms`). A copy-on-write
 * (QEMU `blockdev-backup`) snapshot that needs no pause is the better design, not built yet.
 *
 * Bounded per twin: open snapshots (2 per twin, 8 per node), reads in flight (4 per twin), idle
 * snapshots dropped after 10 min, a copy refused when it would leave less than 1 GiB free. A
 * snapshot is only visible to its twin: another twin's id reads as unknown. Snapshots live under
 * `<dataDir>/snapshots`, emptied at start, so a daemon killed mid-copy leaks nothing.
 *
 * @example
 * ```ts
 * const snaps = diskSnapshots({ engine, hypervisor, paths });
 * const s = await snaps.open(7, { contract_id: 12, name: "data" });
 * const c = await snaps.read(7, { snapshot: s.snapshot, offset: 0, length: 512 * 1024 });
 * await snaps.close(7, { snapshot: s.snapshot });
 * ```
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { open, rm, stat, statfs } from "node:fs/promises";
import { join } from "node:path";
import { BaseError, DISK_CHUNK_MAX, workloadId, type DiskChunk, type DiskSnapshot, type NodeApi } from "@zgrid/types";
import type { ProvisionEngine } from "../../engine/provision-engine.ts";
import type { Hypervisor } from "../../hypervisor/hypervisor.ts";
import { runHost } from "../../hypervisor/host-command.ts";
import type { NodePaths } from "../node-paths.ts";

/** No zmount of that name in the caller's deployment, or it is not on this node's disk (yet). */
export class DiskNotHereError extends BaseError {
  override readonly code: string = "DISK_NOT_FOUND";
}

/** No open snapshot of the caller with that id (never opened, closed, expired, or another twin's). */
export class SnapshotNotFoundError extends BaseError {
  override readonly code: string = "SNAPSHOT_NOT_FOUND";
}

/** A bound was reached (open snapshots, reads in flight, free space) or a read is out of range. */
export class SnapshotLimitError extends BaseError {
  override readonly code: string = "SNAPSHOT_LIMIT";
}

export interface DiskSnapshotLimits {
  perTwin: number;
  perNode: number;
  readsPerTwin: number;
  idleMs: number;
  /** Free bytes a copy must leave on the data dir's filesystem. */
  reserveBytes: number;
}

const ZERO = Buffer.alloc(DISK_CHUNK_MAX);

export const DISK_SNAPSHOT_LIMITS: DiskSnapshotLimits = { perTwin: 2, perNode: 8, readsPerTwin: 4, idleMs: 10 * 60_000, reserveBytes: 2 ** 30 };

export interface DiskSnapshotDeps {
  engine: Pick<ProvisionEngine, "get">;
  hypervisor: Pick<Hypervisor, "status" | "pause" | "resume">;
  paths: Pick<NodePaths, "dataDir" | "disk">;
  limits?: Partial<DiskSnapshotLimits>;
}

interface Snap {
  twin: number;
  file: string;
  size: number;
  lastUsed: number;
}

export function diskSnapshots(deps: DiskSnapshotDeps) {
  const limits = { ...DISK_SNAPSHOT_LIMITS, ...deps.limits };
  const dir = join(deps.paths.dataDir, "snapshots");
  rmSync(dir, { recursive: true, force: true }); // copies of a killed daemon: nobody can read them any more
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const snaps = new Map<string, Snap>();
  const opening = new Map<number, number>();
  const reading = new Map<number, number>();
  const countOf = (twin: number) => [...snaps.values()].filter((s) => s.twin === twin).length + (opening.get(twin) ?? 0);
  const drop = async (id: string): Promise<boolean> => {
    const s = snaps.get(id);
    if (!s) return false;
    snaps.delete(id);
    await rm(s.file, { force: true });
    return true;
  };
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [id, s] of snaps) if (now - s.lastUsed > limits.idleMs) void drop(id);
  }, Math.min(60_000, limits.idleMs));
  sweep.unref();
  const mine = (twin: number, id: string): Snap => {
    const s = snaps.get(id);
    if (!s || s.twin !== twin) throw new SnapshotNotFoundError(`no open snapshot ${id} of your twin on this node`, { hint: "open one with diskSnapshotOpen (snapshots are dropped after 10 minutes unused)" });
    return s;
  };

  return {
    async open(twin: number, r: NodeApi["diskSnapshotOpen"]["request"]): Promise<DiskSnapshot> {
      const d = deps.engine.get(twin, r.contract_id);
      const w = d.workloads.find((x) => x.name === r.name && (x.type === "zmount" || x.type === "volume"));
      if (!w || w.result?.state === "deleted") throw new DiskNotHereError(`no disk '${r.name}' in contract ${r.contract_id}`, { details: { contract_id: r.contract_id, name: r.name } });
      const src = deps.paths.disk(workloadId(d.twin_id, d.contract_id, w.name));
      // the slot is taken before the first await: a burst of opens cannot all pass the check
      if (countOf(twin) >= limits.perTwin) throw new SnapshotLimitError(`your twin has ${limits.perTwin} snapshots open on this node already`, { hint: "close one with diskSnapshotClose" });
      if (snaps.size + [...opening.values()].reduce((a, b) => a + b, 0) >= limits.perNode) throw new SnapshotLimitError(`this node has ${limits.perNode} snapshots open; try again in a minute`);
      opening.set(twin, (opening.get(twin) ?? 0) + 1);
      const id = randomBytes(16).toString("hex");
      const file = join(dir, `${id}.img`);
      const vm = d.workloads.find((x) => x.type === "zmachine" && x.data.mounts.some((m) => m.name === w.name));
      const vmId = vm ? workloadId(d.twin_id, d.contract_id, vm.name) : undefined;
      let paused = 0;
      let size = 0;
      try {
        const st = await stat(src).catch(() => undefined);
        if (!st || !st.isFile()) throw new DiskNotHereError(`disk '${r.name}' of contract ${r.contract_id} is not provisioned on this node (yet)`, { details: { contract_id: r.contract_id, name: r.name } });
        size = st.size;
        const fs = await statfs(dir);
        if (st.blocks * 512 + limits.reserveBytes > fs.bavail * fs.bsize) throw new SnapshotLimitError(`not enough free space on the node to snapshot '${r.name}' (${st.blocks * 512} bytes used)`);
        const state = vmId ? await deps.hypervisor.status(vmId).then((s) => s.state, () => "stopped") : "stopped";
        if (vmId && state === "running") await deps.hypervisor.pause(vmId);
        const t0 = Date.now();
        try {
          await runHost("cp", ["--sparse=always", src, file], { timeoutMs: 600_000 });
        } finally {
          if (vmId && state === "running") {
            await deps.hypervisor.resume(vmId);
            paused = Date.now() - t0;
          }
        }
      } catch (e) {
        await rm(file, { force: true }).catch(() => undefined); // the first error is the one to report
        throw e;
      } finally {
        opening.set(twin, (opening.get(twin) ?? 1) - 1);
      }
      const takenAt = Date.now();
      snaps.set(id, { twin, file, size, lastUsed: takenAt });
      return { snapshot: id, size, taken_at: takenAt, paused_ms: paused };
    },

    async read(twin: number, r: NodeApi["diskSnapshotRead"]["request"]): Promise<DiskChunk> {
      const s = mine(twin, r.snapshot);
      if (r.offset >= s.size) throw new SnapshotLimitError(`offset ${r.offset} is past the end of the disk (${s.size} bytes)`);
      if ((reading.get(twin) ?? 0) >= limits.readsPerTwin) throw new SnapshotLimitError(`your twin has ${limits.readsPerTwin} snapshot reads in flight on this node`, { hint: "read one chunk after the other (or a few at once)" });
      reading.set(twin, (reading.get(twin) ?? 0) + 1);
      try {
        s.lastUsed = Date.now();
        const length = Math.min(r.length, s.size - r.offset);
        const buf = Buffer.alloc(length);
        const fh = await open(s.file, "r");
        try {
          await fh.read(buf, 0, length, r.offset);
        } finally {
          await fh.close();
        }
        const zero = buf.equals(ZERO.subarray(0, length));
        return { offset: r.offset, length, zero, data: zero ? "" : buf.toString("base64") };
      } finally {
        reading.set(twin, (reading.get(twin) ?? 1) - 1);
      }
    },

    async close(twin: number, r: NodeApi["diskSnapshotClose"]["request"]): Promise<{ closed: boolean }> {
      mine(twin, r.snapshot);
      return { closed: await drop(r.snapshot) };
    },

    /** Drops every snapshot (daemon stop). */
    async closeAll(): Promise<void> {
      clearInterval(sweep);
      for (const id of [...snaps.keys()]) await drop(id);
    },

    count: () => snaps.size,
  };
}

export type DiskSnapshots = ReturnType<typeof diskSnapshots>;
