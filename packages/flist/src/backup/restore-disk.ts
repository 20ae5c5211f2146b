/**
 * Restores a disk backup (backup-disk.ts) from the twin's hub into a file: the root manifest is
 * fetched and opened with the twin's backup key (another twin's key: BackupKeyError), checked
 * against the limits before anything is allocated, then every page and block is fetched, verified
 * (id = hash of the bytes, GCM tag, plaintext hash, exact length) and written at its offset.
 * Zero blocks are never written: the file is sparse. The image is written to `<target>.restore`
 * and renamed over `target` only when complete, so a crash or a refused block never leaves a
 * half-restored disk where the VM would boot it.
 *
 * @example
 * ```ts
 * await restoreDisk({ hub: "http://127.0.0.1:8080", key: twinKey, manifest: "9f2c…", target: "/var/zos/disks/data.img" });
 * ```
 */
import { open, rename, rm } from "node:fs/promises";
import type { TwinKey } from "@zgrid/types";
import { BackupFormatError } from "../errors/flist-errors.ts";
import { fromHex, toHex } from "../format/hash.ts";
import type { BlockStore } from "../store/block-store.ts";
import { HttpStore } from "../store/http-store.ts";
import { backupKeyOf, openBackupBlock, openManifest } from "./backup-crypto.ts";
import { BACKUP_LIMITS, parsePage, parseRoot, type BackupLimits, type BackupRoot, type BlockEntry } from "./backup-manifest.ts";

export interface RestoreOptions {
  /** The twin's hub, or any block store holding the backup. */
  hub: string | BlockStore;
  key: Pick<TwinKey, "privateKey" | "address">;
  /** The root manifest id `backupDisk` returned (64 hex). */
  manifest: string;
  /** File to (re)create with the disk's content. */
  target: string;
  limits?: Partial<BackupLimits>;
  /** Parallel block fetches (default 4). */
  concurrency?: number;
}

export interface RestoreResult {
  size: number;
  blockSize: number;
  createdAt: number;
  /** Blocks written (non-zero blocks). */
  blocks: number;
}

/** GCM tag + a worst-case snappy expansion of one block. */
function maxSealed(blockSize: number): number {
  return 32 + blockSize + Math.ceil(blockSize / 6) + 16;
}

/** Reads and opens a backup's root manifest (no disk written). */
export async function readBackupManifest(o: Pick<RestoreOptions, "hub" | "key" | "manifest" | "limits">): Promise<BackupRoot> {
  if (!/^[0-9a-f]{64}$/.test(o.manifest)) throw new BackupFormatError(`manifest id "${o.manifest.slice(0, 80)}" is not 64 hex characters`);
  const limits = { ...BACKUP_LIMITS, ...o.limits };
  const store = storeOf(o.hub, limits.maxRootBytes + 64);
  const id = fromHex(o.manifest);
  const data = await store.get(id);
  if (data.length > limits.maxRootBytes + 64) throw new BackupFormatError(`backup manifest ${o.manifest} is ${data.length} bytes, over the limit`);
  return parseRoot(openManifest(backupKeyOf(o.key), id, data), limits);
}

function storeOf(hub: string | BlockStore, maxBytes: number): BlockStore {
  return typeof hub === "string" ? new HttpStore(`${hub.replace(/\/+$/, "")}/blocks`, { maxBytes }) : hub;
}

/**
 * Fetches, verifies and opens every stored (non-zero) block of a backup, handing each to `write`
 * (at most `concurrency` at once; blocks of a page in any order). Resolves to the root once every
 * block was written; the first failure rejects after the other writers settled. Blocks not handed
 * over are zero. `restoreDisk` writes them to a file; a 3bot writes them into a node's disk.
 *
 * @example
 * ```ts
 * const root = await forEachBackupBlock({ hub, key, manifest }, async (offset, bytes) => sink.write(offset, bytes));
 * ```
 */
export async function forEachBackupBlock(o: Omit<RestoreOptions, "target">, write: (offset: number, bytes: Buffer) => Promise<void>, root?: BackupRoot): Promise<BackupRoot> {
  root ??= await readBackupManifest(o);
  const r = root;
  const bk = backupKeyOf(o.key);
  const store = storeOf(o.hub, maxSealed(r.blockSize));
  const blockCount = Math.ceil(r.size / r.blockSize);
  const lengthOf = (index: number): number => Math.min(r.blockSize, r.size - index * r.blockSize);
  let after = -1;
  for (const page of r.pages) {
    const pageId = fromHex(page.id);
    const plain = openBackupBlock(bk, pageId, fromHex(page.ref), await store.get(pageId), r.blockSize);
    const entries = parsePage(plain, page.entries, after, blockCount);
    after = entries[entries.length - 1]!.index;
    const queue: BlockEntry[] = [...entries];
    const worker = async (): Promise<void> => {
      for (let e = queue.shift(); e; e = queue.shift()) {
        const block = openBackupBlock(bk, e.id, e.ref, await store.get(e.id), r.blockSize);
        if (block.length !== lengthOf(e.index)) throw new BackupFormatError(`block ${toHex(e.id)} holds ${block.length} bytes where the disk needs ${lengthOf(e.index)}`);
        await write(e.index * r.blockSize, block);
      }
    };
    // every worker settles before returning; the first failure is the one reported
    const settled = await Promise.allSettled(Array.from({ length: Math.max(1, o.concurrency ?? 4) }, worker));
    const failed = settled.find((x) => x.status === "rejected");
    if (failed) throw failed.reason;
  }
  return r;
}

/** Restores the backup into `target`; see the module comment. */
export async function restoreDisk(o: RestoreOptions): Promise<RestoreResult> {
  const root = await readBackupManifest(o);
  const tmp = `${o.target}.restore`;
  const fh = await open(tmp, "w");
  let done = false;
  try {
    await fh.truncate(root.size);
    await forEachBackupBlock(o, async (offset, block) => void (await fh.write(block, 0, block.length, offset)), root);
    await fh.sync();
    done = true;
  } finally {
    await fh.close();
    if (!done) await rm(tmp, { force: true });
  }
  await rename(tmp, o.target);
  return { size: root.size, blockSize: root.blockSize, createdAt: root.createdAt, blocks: root.blocks };
}
