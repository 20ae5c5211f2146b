/**
 * Backs a disk image (any byte stream) up to the twin's hub: cut into fixed blocks (the flist
 * block size by default), all-zero blocks skipped (a sparse disk costs what it holds), each block
 * sealed with the twin's backup key (backup-crypto.ts), only the blocks the hub lacks uploaded
 * (`POST /blocks/missing` per batch, then signed PUTs), then the manifest pages and the sealed root.
 * Resolves to the root's id: keep it (the 3bot's DB) to restore with `restoreDisk`.
 * Memory is bounded by one batch of sealed blocks (`batch` × block size), whatever the disk size.
 *
 * @example
 * ```ts
 * const r = await backupDisk({ hub: "http://127.0.0.1:8080", key: twinKey, source: createReadStream("disk.img") });
 * r.manifest; // "9f2c…" (64 hex); r.uploadedBlocks: data blocks the hub did not have yet
 * ```
 */
import type { TwinKey } from "@zgrid/types";
import { BackupFormatError } from "../errors/flist-errors.ts";
import { DEFAULT_BLOCK_SIZE } from "../format/schema.ts";
import { toHex } from "../format/hash.ts";
import { missingBlocks } from "../hub/hub-client.ts";
import { signHubRequest } from "../hub/hub-auth.ts";
import { HttpStore } from "../store/http-store.ts";
import { backupKeyOf, sealBackupBlock, sealManifest, type SealedBlock } from "./backup-crypto.ts";
import { BACKUP_FORMAT, BACKUP_LIMITS, MAX_BACKUP_BLOCK, checkBlockSize, encodePage, entriesPerPage, type BackupRoot, type BlockEntry, type PageRef } from "./backup-manifest.ts";

export interface BackupOptions {
  /** The twin's hub (signed block PUTs, `/blocks/missing`). */
  hub: string;
  /** The twin's key: signs uploads and derives the backup key. */
  key: Pick<TwinKey, "privateKey" | "address">;
  /** The disk's bytes, in order (a file stream, or chunks read from a node). */
  source: AsyncIterable<Uint8Array>;
  /** Default 512 KiB (the flist block size). */
  blockSize?: number;
  /** Refuse sources larger than this (default 4 TiB). */
  maxDiskBytes?: number;
  /** Sealed blocks per existence check (default 32). */
  batch?: number;
  /** Parallel uploads (default 4). */
  concurrency?: number;
}

export interface BackupResult {
  /** Hub id of the sealed root manifest (64 hex). */
  manifest: string;
  size: number;
  blockSize: number;
  createdAt: number;
  /** Non-zero blocks in the disk. */
  blocks: number;
  /** All-zero blocks skipped. */
  zeroBlocks: number;
  /** Data blocks uploaded (the rest were on the hub already). */
  uploadedBlocks: number;
  /** Manifest pages uploaded (+1 root, always). */
  uploadedPages: number;
}

/** Cuts a stream into blocks of `size` bytes (the last may be shorter). */
async function* fixedBlocks(source: AsyncIterable<Uint8Array>, size: number, max: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let have = 0;
  let total = 0;
  for await (const chunk of source) {
    total += chunk.length;
    if (total > max) throw new BackupFormatError(`the disk is larger than the backup limit of ${max} bytes`);
    let c = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (c.length > 0) {
      const take = Math.min(size - have, c.length);
      parts.push(c.subarray(0, take));
      have += take;
      c = c.subarray(take);
      if (have === size) {
        yield Buffer.concat(parts, size);
        parts = [];
        have = 0;
      }
    }
  }
  if (have > 0) yield Buffer.concat(parts, have);
}

const ZERO = Buffer.alloc(MAX_BACKUP_BLOCK);

function isZero(b: Buffer): boolean {
  return b.equals(ZERO.subarray(0, b.length));
}

/** Uploads the sealed blocks the hub lacks; returns how many were uploaded. */
async function uploadMissing(hub: string, store: HttpStore, sealed: readonly SealedBlock[], concurrency: number): Promise<number> {
  const unique = [...new Map(sealed.map((s) => [toHex(s.id), s])).values()];
  if (unique.length === 0) return 0;
  const missing = await missingBlocks(hub, unique.map((s) => s.id));
  const want = new Set((missing ?? unique.map((s) => s.id)).map((id) => toHex(id)));
  const queue = unique.filter((s) => want.has(toHex(s.id)));
  const count = queue.length;
  const worker = async (): Promise<void> => {
    for (let s = queue.shift(); s; s = queue.shift()) await store.set(s.id, s.data);
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return count;
}

/** Backs `source` up to the hub; see the module comment. */
export async function backupDisk(o: BackupOptions): Promise<BackupResult> {
  const hub = o.hub.replace(/\/+$/, "");
  const blockSize = o.blockSize ?? DEFAULT_BLOCK_SIZE;
  checkBlockSize(blockSize);
  const maxDisk = o.maxDiskBytes ?? BACKUP_LIMITS.maxDiskBytes;
  const bk = backupKeyOf(o.key);
  const key = o.key;
  const store = new HttpStore(`${hub}/blocks`, { writable: true, sign: (method, path) => signHubRequest(key, method, path) });
  const concurrency = o.concurrency ?? 4;
  const batchSize = Math.max(1, o.batch ?? 32);
  const perPage = entriesPerPage(blockSize);
  let entries: BlockEntry[] = [];
  const refs: PageRef[] = [];
  let batch: SealedBlock[] = [];
  let index = 0;
  let size = 0;
  let blocks = 0;
  let zero = 0;
  let uploaded = 0;
  let uploadedPages = 0;
  // A page is sealed and uploaded once full and after the data blocks it names: memory stays at
  // one batch plus one page, and a page on the hub never names a block that is not there.
  const flushPage = async (): Promise<void> => {
    uploaded += await uploadMissing(hub, store, batch, concurrency);
    batch = [];
    if (entries.length === 0) return;
    if (refs.length >= BACKUP_LIMITS.maxPages) throw new BackupFormatError(`the disk needs more than ${BACKUP_LIMITS.maxPages} manifest pages`);
    const page = sealBackupBlock(bk, encodePage(entries));
    uploadedPages += await uploadMissing(hub, store, [page], 1);
    refs.push({ id: toHex(page.id), ref: toHex(page.ref), entries: entries.length });
    entries = [];
  };
  for await (const block of fixedBlocks(o.source, blockSize, maxDisk)) {
    size += block.length;
    if (isZero(block)) zero++;
    else {
      const sealed = sealBackupBlock(bk, block);
      entries.push({ index, id: sealed.id, ref: sealed.ref });
      blocks++;
      batch.push(sealed);
      if (entries.length === perPage) await flushPage();
      else if (batch.length >= batchSize) {
        uploaded += await uploadMissing(hub, store, batch, concurrency);
        batch = [];
      }
    }
    index++;
  }
  await flushPage();
  const createdAt = Date.now();
  const root: BackupRoot = { format: BACKUP_FORMAT, size, blockSize, createdAt, blocks, pages: refs };
  const sealedRoot = sealManifest(bk, Buffer.from(JSON.stringify(root)));
  await store.set(sealedRoot.id, sealedRoot.data);
  return { manifest: toHex(sealedRoot.id), size, blockSize, createdAt, blocks, zeroBlocks: zero, uploadedBlocks: uploaded, uploadedPages };
}
