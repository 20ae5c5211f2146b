/**
 * The disk backup manifest, in two levels so no hub block grows past the flist block size:
 * - pages: binary, entries of 68 bytes `u32be index ‖ id(32) ‖ ref(32)` for each non-zero block,
 *   indexes strictly increasing; each page is a sealed block like the data (convergent, so an
 *   unchanged page of a second backup is not uploaded again);
 * - the root: JSON `{ format, size, blockSize, createdAt, blocks, pages: [{ id, ref, entries }] }`,
 *   sealed with the backup key (backup-crypto.ts `sealManifest`). Its hub id names the backup.
 * Decoding checks every field and limit before anything is fetched or allocated.
 *
 * @example
 * ```ts
 * const root = parseRoot(openManifest(bk, id, data), BACKUP_LIMITS);
 * for (const page of root.pages) parsePage(openBackupBlock(bk, …), root, BACKUP_LIMITS);
 * ```
 */
import { BackupFormatError } from "../errors/flist-errors.ts";

export const BACKUP_FORMAT = "zgrid-disk-backup/1";
export const ENTRY_BYTES = 4 + 32 + 32;

export interface BackupLimits {
  /** Largest disk a backup may describe (default 4 TiB). */
  maxDiskBytes: number;
  /** Pages in a root (default 4096: with 512 KiB pages and blocks, ~15 TiB). */
  maxPages: number;
  /** Largest root manifest, bytes (default 1 MiB). */
  maxRootBytes: number;
}

export const BACKUP_LIMITS: BackupLimits = { maxDiskBytes: 4 * 2 ** 40, maxPages: 4096, maxRootBytes: 2 ** 20 };
export const MIN_BACKUP_BLOCK = 4096;
export const MAX_BACKUP_BLOCK = 4 * 2 ** 20;

export interface BlockEntry {
  index: number;
  id: Buffer;
  ref: Buffer;
}

export interface PageRef {
  id: string;
  ref: string;
  entries: number;
}

export interface BackupRoot {
  format: typeof BACKUP_FORMAT;
  size: number;
  blockSize: number;
  createdAt: number;
  /** Non-zero blocks stored. */
  blocks: number;
  pages: PageRef[];
}

/** Entries one page holds for a block size (a page is at most one block). */
export function entriesPerPage(blockSize: number): number {
  return Math.floor(blockSize / ENTRY_BYTES);
}

export function checkBlockSize(blockSize: number): void {
  if (!Number.isInteger(blockSize) || blockSize < MIN_BACKUP_BLOCK || blockSize > MAX_BACKUP_BLOCK || (blockSize & (blockSize - 1)) !== 0) {
    throw new BackupFormatError(`block size ${blockSize} is not a power of two between ${MIN_BACKUP_BLOCK} and ${MAX_BACKUP_BLOCK}`);
  }
}

export function encodePage(entries: readonly BlockEntry[]): Buffer {
  const out = Buffer.alloc(entries.length * ENTRY_BYTES);
  entries.forEach((e, i) => {
    const at = i * ENTRY_BYTES;
    out.writeUInt32BE(e.index, at);
    e.id.copy(out, at + 4);
    e.ref.copy(out, at + 36);
  });
  return out;
}

const HEX32 = /^[0-9a-f]{64}$/;

/** Parses and checks a root manifest against the limits. Throws BackupFormatError saying what is wrong. */
export function parseRoot(plain: Buffer, limits: BackupLimits = BACKUP_LIMITS): BackupRoot {
  if (plain.length > limits.maxRootBytes) throw new BackupFormatError(`backup manifest is ${plain.length} bytes, over the limit of ${limits.maxRootBytes}`);
  let v: unknown;
  try {
    v = JSON.parse(plain.toString("utf8"));
  } catch (cause) {
    throw new BackupFormatError("backup manifest is not JSON", { cause });
  }
  const r = v as Partial<BackupRoot> | null;
  if (!r || typeof r !== "object" || r.format !== BACKUP_FORMAT) throw new BackupFormatError(`backup manifest is not of format ${BACKUP_FORMAT}`);
  const { size, blockSize, createdAt, blocks, pages } = r;
  if (typeof blockSize !== "number") throw new BackupFormatError("backup manifest has no block size");
  checkBlockSize(blockSize);
  if (!Number.isSafeInteger(size) || size! < 0) throw new BackupFormatError("backup manifest: size is not a byte count");
  if (size! > limits.maxDiskBytes) throw new BackupFormatError(`backup manifest describes a disk of ${size} bytes, over the limit of ${limits.maxDiskBytes}`);
  if (!Number.isSafeInteger(createdAt)) throw new BackupFormatError("backup manifest: createdAt is not a time");
  if (!Array.isArray(pages) || pages.length > limits.maxPages) throw new BackupFormatError(`backup manifest: pages must be a list of at most ${limits.maxPages}`);
  const perPage = entriesPerPage(blockSize);
  const blockCount = Math.ceil(size! / blockSize);
  let total = 0;
  for (const p of pages) {
    if (!p || typeof p !== "object" || !HEX32.test(String(p.id)) || !HEX32.test(String(p.ref)) || !Number.isInteger(p.entries) || p.entries < 1 || p.entries > perPage) {
      throw new BackupFormatError("backup manifest: a page reference is malformed");
    }
    total += p.entries;
  }
  if (total !== blocks || total > blockCount) throw new BackupFormatError(`backup manifest: ${total} block entries for ${blocks} blocks of a ${blockCount}-block disk`);
  return { format: BACKUP_FORMAT, size: size!, blockSize, createdAt: createdAt!, blocks: total, pages: pages.map((p) => ({ id: p.id, ref: p.ref, entries: p.entries })) };
}

/**
 * Parses one page: exactly `expected` entries, indexes strictly above `after` and below the disk's
 * block count. Returns the entries.
 */
export function parsePage(plain: Buffer, expected: number, after: number, blockCount: number): BlockEntry[] {
  if (plain.length !== expected * ENTRY_BYTES) throw new BackupFormatError(`backup manifest page holds ${plain.length} bytes, expected ${expected} entries`);
  const out: BlockEntry[] = [];
  let last = after;
  for (let at = 0; at < plain.length; at += ENTRY_BYTES) {
    const index = plain.readUInt32BE(at);
    if (index <= last || index >= blockCount) throw new BackupFormatError(`backup manifest page: block index ${index} out of order or past the disk's ${blockCount} blocks`);
    last = index;
    out.push({ index, id: plain.subarray(at + 4, at + 36), ref: plain.subarray(at + 36, at + 68) });
  }
  return out;
}
