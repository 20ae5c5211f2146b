/**
 * The 3bot's side of a disk backup (issue 16): ask the disk's node for a crash-consistent snapshot
 * of one of the twin's zmount disks, read it in bounded chunks over the bus (`diskSnapshotRead`),
 * and hand the bytes to @zgrid/flist `backupDisk`, which seals them with the twin's backup key and
 * pushes only the blocks the twin's hub lacks. The key never reaches the node. The snapshot is
 * closed on the node whatever happens.
 *
 * @example
 * ```ts
 * const r = await backupNodeDisk({ node: nodeClient(bus, nodeTwin), contractId: 12, name: "data", hub, key });
 * r.manifest; // keep it (the bot's DB) to restore with `restoreDisk`
 * ```
 */
import { backupDisk, type BackupResult } from "@zgrid/flist";
import type { NodeClient } from "@zgrid/client";
import { DISK_CHUNK_MAX, type TwinKey } from "@zgrid/types";

export interface NodeDiskBackupOptions {
  node: Pick<NodeClient, "diskSnapshotOpen" | "diskSnapshotRead" | "diskSnapshotClose">;
  contractId: number;
  /** The zmount workload's name. */
  name: string;
  hub: string;
  key: Pick<TwinKey, "privateKey" | "address">;
  /** Per bus call, ms (default 30 s; the open waits for the node's copy: default 10 min). */
  readTimeoutMs?: number;
  openTimeoutMs?: number;
}

export interface NodeDiskBackup extends BackupResult {
  /** When the node took the snapshot (ms since the epoch): what a restore brings back. */
  takenAt: number;
  /** How long the VM was paused for it. */
  pausedMs: number;
}

/** The snapshot's bytes in order, chunk by chunk (zero chunks arrive without data). */
async function* snapshotBytes(node: NodeDiskBackupOptions["node"], snapshot: string, size: number, timeout: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < size; ) {
    const c = await node.diskSnapshotRead({ snapshot, offset, length: DISK_CHUNK_MAX }, { timeout });
    if (c.offset !== offset || c.length < 1 || c.length > Math.min(DISK_CHUNK_MAX, size - offset)) throw new Error(`the node answered a chunk at ${c.offset}+${c.length} for ${offset}`);
    const bytes = c.zero ? Buffer.alloc(c.length) : Buffer.from(c.data, "base64");
    if (bytes.length !== c.length) throw new Error(`the node's chunk at ${offset} holds ${bytes.length} bytes, not ${c.length}`);
    yield bytes;
    offset += c.length;
  }
}

/** Backs one zmount disk up from its node to the twin's hub; see the module comment. */
export async function backupNodeDisk(o: NodeDiskBackupOptions): Promise<NodeDiskBackup> {
  const snap = await o.node.diskSnapshotOpen({ contract_id: o.contractId, name: o.name }, { timeout: o.openTimeoutMs ?? 600_000 });
  try {
    const r = await backupDisk({ hub: o.hub, key: o.key, source: snapshotBytes(o.node, snap.snapshot, snap.size, o.readTimeoutMs ?? 30_000) });
    return { ...r, takenAt: snap.taken_at, pausedMs: snap.paused_ms };
  } finally {
    await o.node.diskSnapshotClose({ snapshot: snap.snapshot }).catch(() => undefined); // the node drops it when idle anyway
  }
}
