/**
 * Verifies an flist end to end: its signature (root digest over the whole listing), then every
 * block re-fetched from the stores, re-hashed (id = hash of ciphertext) and decrypted (GCM's tag
 * checks the plaintext against those bytes and the listed key; why the plaintext is not hashed
 * again: format/block-decode-core.ts). A bad block is reported with the files that use it.
 *
 * @example
 * ```ts
 * const report = await verifyFlist({ flist: "app.fl", trustedSigners: ["0xabc…"] });
 * if (!report.ok) console.error(report.failures);
 * ```
 */
import { BlockIntegrityError } from "./errors/flist-errors.ts";
import { DecodePool, sharedDecodePool } from "./format/decode-pool.ts";
import { FlistReader } from "./format/flist-reader.ts";
import { toHex } from "./format/hash.ts";
import { withLocalFlist } from "./format/local-flist.ts";
import { S_IFMT, S_IFREG, TAGS } from "./format/schema.ts";
import { checkFlistSignature } from "./sign/sign-flist.ts";
import type { BlockStore } from "./store/block-store.ts";
import type { HttpStoreOptions } from "./store/http-store.ts";
import { resolveStores } from "./store/resolve-stores.ts";

export interface VerifyOptions {
  /** Path or http(s) URL of the .fl file. */
  flist: string;
  /** Stores to fetch from (specs or a store); default: the flist's routes. */
  stores?: BlockStore | string[];
  /** Fail when the flist is unsigned. Default: true when trustedSigners is given. */
  requireSignature?: boolean;
  trustedSigners?: string[];
  /** Skip fetching blocks (signature and listing only). */
  skipBlocks?: boolean;
  concurrency?: number;
  /**
   * Worker threads that decode and re-hash blocks. Default: the process-wide pool (every core, at
   * most 8, kept 30 s after use) for flists of 32 blocks or more, smaller ones on the caller's
   * thread; 0 verifies on the caller's thread; another number starts a pool of that size for this
   * call.
   */
  threads?: number;
  /** Limits, cancellation and egress hook for http(s) fetches (the .fl and blocks). */
  http?: HttpStoreOptions;
}

export interface BlockFailure {
  id: string;
  reason: string;
  /** Paths of the files that contain the block. */
  files: string[];
}

export interface VerifyReport {
  ok: boolean;
  signer?: `0x${string}`;
  root?: string;
  files: number;
  blocks: number;
  bytes: number;
  seconds: number;
  failures: BlockFailure[];
}

/** Throws SignatureError / FlistFormatError; block problems land in `failures`. */
export async function verifyFlist(options: VerifyOptions): Promise<VerifyReport> {
  return withLocalFlist(options.flist, (path) => verifyLocal(path, options), options.http);
}

async function verifyLocal(path: string, options: VerifyOptions): Promise<VerifyReport> {
  const started = performance.now();
  const reader = FlistReader.open(path);
  try {
    const report: VerifyReport = { ok: true, files: 0, blocks: 0, bytes: 0, seconds: 0, failures: [] };
    const signed = reader.tag(TAGS.signature) !== undefined;
    if (signed || options.requireSignature || options.trustedSigners) {
      const sig = await checkFlistSignature(reader, { trustedSigners: options.trustedSigners });
      report.signer = sig.signer;
      report.root = sig.root;
    }
    const users = new Map<string, { key: Uint8Array; id: Uint8Array; files: string[] }>();
    for (const { path, inode } of reader.walk()) {
      if ((inode.mode & S_IFMT) !== S_IFREG) continue;
      report.files++;
      const blocks = reader.blocks(inode.ino);
      reader.checkSize(inode, blocks);
      for (const b of blocks) {
        const hex = toHex(b.id);
        const u = users.get(hex) ?? { key: b.key, id: b.id, files: [] };
        // Each file is walked once: comparing with the last name is enough; a block shared by many
        // files lists the first 20 (linear, whatever the listing).
        const name = path.toString();
        if (u.files.length < 20 && u.files[u.files.length - 1] !== name) u.files.push(name);
        users.set(hex, u);
      }
    }
    if (options.skipBlocks) return { ...report, seconds: (performance.now() - started) / 1000 };
    const store = resolveStores(reader, options.stores, options.http);
    const queue = [...users.entries()].reverse();
    // A worker costs ~0.2 CPU-s to start: tiny flists stay on the caller's thread; the shared pool
    // is reused by later verifies (see bench/flist/verify-listing.ts).
    const { threads } = options;
    const own = threads !== undefined;
    const pool = threads !== undefined ? new DecodePool(threads) : queue.length < 32 ? new DecodePool(0) : sharedDecodePool();
    const worker = async (): Promise<void> => {
      while (queue.length > 0) {
        const [hex, u] = queue.pop()!;
        try {
          // A local store's blocks are read by the worker that verifies them; else (or when the
          // worker found no file) the store is asked and the bytes go to the worker.
          const { bytes } = (await pool.verifyFile(u.id, u.key, store.localPaths?.(u.id) ?? [])) ?? (await pool.verify(u.id, u.key, await store.get(u.id)));
          report.blocks++;
          report.bytes += bytes;
        } catch (e) {
          const reason = e instanceof BlockIntegrityError ? String(e.details.reason) : (e as Error).message.split("\n")[0]!;
          report.failures.push({ id: hex, reason, files: u.files });
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: options.concurrency ?? Math.max(4, pool.size * 4) }, worker));
    } finally {
      if (own) await pool.close();
    }
    report.ok = report.failures.length === 0;
    report.seconds = (performance.now() - started) / 1000;
    return report;
  } finally {
    reader.close();
  }
}
