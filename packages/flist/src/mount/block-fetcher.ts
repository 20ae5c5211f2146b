/**
 * Gets verified plaintext blocks: memory (already verified) -> disk cache (verified again on every
 * hit) -> store (verified, then cached). One fetch per block at a time (single-flight); a block
 * that fails verification is never cached and the read fails. Counts what it does.
 *
 * @example
 * ```ts
 * const fetcher = new BlockFetcher({ store, cache });
 * const plain = await fetcher.get(block);       // throws BlockIntegrityError on tampering
 * fetcher.prefetch([next1, next2]);             // read-ahead, errors ignored
 * ```
 */
import { BlockIntegrityError } from "../errors/flist-errors.ts";
import { decodeBlock } from "../format/block-codec.ts";
import type { FlistBlock } from "../format/schema.ts";
import type { BlockStore } from "../store/block-store.ts";
import type { BlockCache } from "./block-cache.ts";

export interface FetchMetrics {
  /** Blocks downloaded from a store. */
  blocksFetched: number;
  bytesFetched: number;
  /** Blocks served from the disk cache. */
  cacheHits: number;
  /** Blocks served from the in-memory plaintext cache. */
  memoryHits: number;
  /** Blocks that failed verification (from a store or the cache). */
  verifyFailures: number;
  /** Blocks fetched by read-ahead / prefetch. */
  prefetched: number;
}

export interface BlockFetcherOptions {
  store: BlockStore;
  cache?: BlockCache;
  /** Plaintext blocks kept in memory (default 64). */
  memoryBlocks?: number;
  /** Parallel downloads for prefetch (default 8). */
  parallel?: number;
  /** The flist's block size: a block whose Snappy header claims more is refused before decoding (default 64 MiB). */
  maxBlockSize?: number;
}

export class BlockFetcher {
  readonly metrics: FetchMetrics = { blocksFetched: 0, bytesFetched: 0, cacheHits: 0, memoryHits: 0, verifyFailures: 0, prefetched: 0 };
  readonly #store: BlockStore;
  readonly #cache: BlockCache | undefined;
  readonly #memory = new Map<string, Buffer>();
  readonly #memoryBlocks: number;
  readonly #inflight = new Map<string, Promise<Buffer>>();
  readonly #parallel: number;
  readonly #maxBlockSize: number | undefined;
  #prefetchRunning = 0;
  readonly #prefetchQueue: FlistBlock[] = [];

  constructor(options: BlockFetcherOptions) {
    this.#store = options.store;
    this.#cache = options.cache;
    this.#memoryBlocks = options.memoryBlocks ?? 64;
    this.#parallel = options.parallel ?? 8;
    this.#maxBlockSize = options.maxBlockSize;
  }

  /** Verified plaintext of a block. */
  get(block: FlistBlock): Promise<Buffer> {
    const hex = Buffer.from(block.id).toString("hex");
    const mem = this.#memory.get(hex);
    if (mem) {
      this.#memory.delete(hex);
      this.#memory.set(hex, mem);
      this.metrics.memoryHits++;
      return Promise.resolve(mem);
    }
    const running = this.#inflight.get(hex);
    if (running) return running;
    const p = this.#load(block, hex).finally(() => this.#inflight.delete(hex));
    this.#inflight.set(hex, p);
    return p;
  }

  async #load(block: FlistBlock, hex: string): Promise<Buffer> {
    const cached = this.#cache?.get(block.id);
    if (cached) {
      try {
        const plain = decodeBlock(block.id, block.key, cached, this.#maxBlockSize);
        this.metrics.cacheHits++;
        this.#remember(hex, plain);
        return plain;
      } catch (e) {
        if (!(e instanceof BlockIntegrityError)) throw e;
        // A corrupt cache entry: drop it and fetch a fresh copy.
        this.metrics.verifyFailures++;
        this.#cache?.remove(block.id);
      }
    }
    const data = await this.#store.get(block.id);
    this.metrics.blocksFetched++;
    this.metrics.bytesFetched += data.length;
    let plain: Buffer;
    try {
      plain = decodeBlock(block.id, block.key, data, this.#maxBlockSize);
    } catch (e) {
      this.metrics.verifyFailures++;
      throw e;
    }
    this.#cache?.put(block.id, data);
    this.#remember(hex, plain);
    return plain;
  }

  #remember(hex: string, plain: Buffer): void {
    this.#memory.set(hex, plain);
    while (this.#memory.size > this.#memoryBlocks) this.#memory.delete(this.#memory.keys().next().value!);
  }

  /** True when the block is available without a download. */
  isLocal(block: FlistBlock): boolean {
    const hex = Buffer.from(block.id).toString("hex");
    return this.#memory.has(hex) || this.#inflight.has(hex);
  }

  /** Fetches blocks in the background, `parallel` at a time. Errors surface on the real read. */
  prefetch(blocks: FlistBlock[]): void {
    for (const b of blocks) if (!this.isLocal(b)) this.#prefetchQueue.push(b);
    this.#pump();
  }

  #pump(): void {
    while (this.#prefetchRunning < this.#parallel && this.#prefetchQueue.length > 0) {
      const b = this.#prefetchQueue.shift()!;
      if (this.isLocal(b)) continue;
      this.#prefetchRunning++;
      this.metrics.prefetched++;
      this.get(b).catch(() => undefined).finally(() => {
        this.#prefetchRunning--;
        this.#pump();
      });
    }
  }
}
