/**
 * On-disk block cache shared by every mount of a machine: encoded blocks as `<dir>/<hh>/<id hex>`,
 * a size cap with LRU eviction. Entries hold ciphertext exactly as fetched, so a hit is verified
 * like a fetch (the caller decodes with decodeBlock). Writes are atomic (temp + rename), so
 * processes sharing the directory never see half a block. Each process tracks recency of what it
 * uses; files are also touched, and every 128 writes the directory is re-scanned, so blocks other
 * mounts added count towards the cap and a new process starts from the on-disk order.
 *
 * @example
 * ```ts
 * const cache = new BlockCache({ dir: "/var/cache/zgrid/blocks", maxBytes: 2 * 2 ** 30 });
 * cache.put(id, data); cache.get(id);
 * ```
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { blockPath } from "../store/block-store.ts";

export interface BlockCacheOptions {
  dir: string;
  /** Size cap in bytes; least recently used blocks go first. */
  maxBytes: number;
}

let tmpCounter = 0;

export class BlockCache {
  readonly dir: string;
  readonly maxBytes: number;
  /** hex id -> size, in LRU order (oldest first: Map keeps insertion order). */
  readonly #entries = new Map<string, number>();
  #bytes = 0;
  #putsSinceScan = 0;

  constructor(options: BlockCacheOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    mkdirSync(this.dir, { recursive: true });
    this.#scan();
  }

  /** Re-reads the directory: keeps this process's recency for known blocks, adds others' by mtime. */
  #scan(): void {
    this.#putsSinceScan = 0;
    const found: Array<{ hex: string; size: number; mtime: number }> = [];
    for (const sub of readdirSync(this.dir)) {
      if (!/^[0-9a-f]{2}$/.test(sub)) continue;
      for (const name of readdirSync(join(this.dir, sub))) {
        if (!/^[0-9a-f]{64}$/.test(name)) continue;
        try {
          const st = statSync(join(this.dir, sub, name));
          found.push({ hex: name, size: st.size, mtime: st.mtimeMs });
        } catch { /* evicted meanwhile */ }
      }
    }
    const known = new Map(this.#entries);
    this.#entries.clear();
    this.#bytes = 0;
    const onDisk = new Set(found.map((f) => f.hex));
    // Blocks new to this process are older than anything it used itself.
    for (const f of found.sort((a, b) => a.mtime - b.mtime)) {
      if (known.has(f.hex)) continue;
      this.#entries.set(f.hex, f.size);
      this.#bytes += f.size;
    }
    for (const [hex, size] of known) {
      if (!onDisk.has(hex)) continue;
      this.#entries.set(hex, size);
      this.#bytes += size;
    }
    this.#evict();
  }

  get bytes(): number {
    return this.#bytes;
  }

  get count(): number {
    return this.#entries.size;
  }

  #file(hex: string): string {
    return join(this.dir, blockPath(Buffer.from(hex, "hex")));
  }

  /** The cached bytes (unverified: decode them), or undefined. */
  get(id: Uint8Array): Buffer | undefined {
    const hex = Buffer.from(id).toString("hex");
    let data: Buffer;
    try {
      data = readFileSync(this.#file(hex));
    } catch {
      if (this.#entries.has(hex)) this.#forget(hex);
      return undefined;
    }
    const size = this.#entries.get(hex);
    if (size !== undefined) this.#entries.delete(hex);
    else this.#bytes += data.length;
    this.#entries.set(hex, data.length);
    try {
      const now = new Date();
      utimesSync(this.#file(hex), now, now);
    } catch { /* best effort */ }
    return data;
  }

  put(id: Uint8Array, data: Uint8Array): void {
    if (data.length > this.maxBytes) return;
    const hex = Buffer.from(id).toString("hex");
    const file = this.#file(hex);
    mkdirSync(join(file, ".."), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}-${tmpCounter++}`;
    writeFileSync(tmp, data);
    renameSync(tmp, file);
    if (this.#entries.has(hex)) this.#forget(hex);
    this.#entries.set(hex, data.length);
    this.#bytes += data.length;
    if (++this.#putsSinceScan >= 128) this.#scan();
    else this.#evict();
  }

  /** Drops a block (e.g. one that failed verification). */
  remove(id: Uint8Array): void {
    const hex = Buffer.from(id).toString("hex");
    try { unlinkSync(this.#file(hex)); } catch { /* already gone */ }
    if (this.#entries.has(hex)) this.#forget(hex);
  }

  #forget(hex: string): void {
    this.#bytes -= this.#entries.get(hex) ?? 0;
    this.#entries.delete(hex);
  }

  #evict(): void {
    for (const [hex] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      try { unlinkSync(this.#file(hex)); } catch { /* another process evicted it */ }
      this.#forget(hex);
    }
  }
}
