/**
 * Node API of disk snapshots (disk backups, issue 16): the deployment's own twin opens a
 * crash-consistent snapshot of one of its zmount disks, reads it in bounded chunks (at most
 * DISK_CHUNK_MAX bytes, base64, so one answer fits the bus's 1 MiB message limit; an all-zero chunk
 * comes back as `zero: true` without data) and closes it. The node never sees a backup key: the
 * caller encrypts what it reads (@zgrid/flist `backupDisk`).
 *
 * @example
 * ```ts
 * const s = await node.diskSnapshotOpen({ contract_id: 12, name: "data" }); // { snapshot, size, taken_at, paused_ms }
 * const c = await node.diskSnapshotRead({ snapshot: s.snapshot, offset: 0, length: DISK_CHUNK_MAX });
 * await node.diskSnapshotClose({ snapshot: s.snapshot });
 * ```
 */
import { z } from "zod";

/** Bytes one `diskSnapshotRead` returns at most (the flist block size). */
export const DISK_CHUNK_MAX = 512 * 1024;

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const snapshotId = z.string({ error: "a snapshot id from diskSnapshotOpen" }).regex(/^[0-9a-f]{32}$/, "a snapshot id from diskSnapshotOpen (32 hex)");

export const diskSnapshotOpenRequestSchema = z.object({
  contract_id: z.number({ error: "a positive integer contract id" }).int("a positive integer contract id")
    .min(1, "a positive integer contract id").max(Number.MAX_SAFE_INTEGER, "a positive integer contract id"),
  name: z.string({ error: "the name of a zmount workload" }).regex(/^[a-zA-Z0-9_]{1,36}$/, "the name of a zmount workload"),
});
export interface DiskSnapshot {
  snapshot: string;
  /** The disk's size in bytes. */
  size: number;
  /** When it was taken (ms since the epoch). */
  taken_at: number;
  /** How long the disk's running VM was paused to take it (0: no VM ran). */
  paused_ms: number;
}
export const diskSnapshotSchema = z.object({ snapshot: snapshotId, size: count, taken_at: count, paused_ms: count });

export const diskSnapshotReadRequestSchema = z.object({
  snapshot: snapshotId,
  offset: z.number({ error: "a byte offset" }).int("a byte offset").min(0, "a byte offset").max(Number.MAX_SAFE_INTEGER, "a byte offset"),
  length: z.number({ error: `a length of 1–${DISK_CHUNK_MAX} bytes` }).int().min(1, `a length of 1–${DISK_CHUNK_MAX} bytes`).max(DISK_CHUNK_MAX, `at most ${DISK_CHUNK_MAX} bytes per read`),
});
export interface DiskChunk {
  offset: number;
  /** Bytes in this chunk (shorter than asked at the end of the disk). */
  length: number;
  /** All zero: `data` is empty. */
  zero: boolean;
  /** The bytes, base64 (empty when `zero`). */
  data: string;
}
export const diskChunkSchema = z.object({
  offset: count, length: z.number().int().min(0).max(DISK_CHUNK_MAX), zero: z.boolean(),
  data: z.string().max(Math.ceil(DISK_CHUNK_MAX / 3) * 4).regex(/^[A-Za-z0-9+/]*={0,2}$/, "base64"),
});

export const diskSnapshotCloseRequestSchema = z.object({ snapshot: snapshotId });
export const diskSnapshotCloseSchema = z.object({ closed: z.boolean() });

/**
 * `zos.zmount.write`: the owner writes bytes into one of its zmount disks while no VM runs on it
 * (a restore from a backup before the VM boots). `reset` first empties the disk (all holes, same
 * size): the first write of a restore.
 */
export const diskWriteRequestSchema = z.object({
  contract_id: diskSnapshotOpenRequestSchema.shape.contract_id,
  name: diskSnapshotOpenRequestSchema.shape.name,
  offset: z.number({ error: "a byte offset" }).int("a byte offset").min(0, "a byte offset").max(Number.MAX_SAFE_INTEGER, "a byte offset"),
  /** The bytes, base64 (at most DISK_CHUNK_MAX; may be empty with `reset`). */
  data: z.string().max(Math.ceil(DISK_CHUNK_MAX / 3) * 4, `at most ${DISK_CHUNK_MAX} bytes per write`).regex(/^[A-Za-z0-9+/]*={0,2}$/, "base64"),
  reset: z.boolean().default(false),
});
export const diskWriteSchema = z.object({ written: count, size: count });
