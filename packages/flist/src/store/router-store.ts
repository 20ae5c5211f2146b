/**
 * A route table of stores by the first byte of the block id (rfs `route` table, `00-7f=URL`).
 * Writes go to every matching store; reads try matching stores in random order (failover), each
 * with retries and exponential backoff for transient errors.
 *
 * @example
 * ```ts
 * const router = openStores(["00-7f=dir:///a", "80-ff=dir:///b", "http://hub/blocks"]);
 * await router.set(id, data);
 * ```
 */
import { BlockNotFoundError, StoreError } from "../errors/flist-errors.ts";
import type { FlistRoute } from "../format/schema.ts";
import type { BlockStore } from "./block-store.ts";
import { DirStore } from "./dir-store.ts";
import { HttpStore, type HttpStoreOptions } from "./http-store.ts";

export interface RoutedStore {
  start: number;
  end: number;
  store: BlockStore;
}

export interface RetryOptions {
  attempts?: number;
  baseDelayMs?: number;
}

/** Retries `fn` on errors other than BlockNotFoundError, doubling the delay each time. */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 4;
  let delay = options.baseDelayMs ?? 100;
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof BlockNotFoundError || i >= attempts) throw e;
      await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
      delay *= 2;
    }
  }
}

export class RouterStore implements BlockStore {
  readonly routes: RoutedStore[];
  readonly url: string;
  readonly #retry: RetryOptions;

  constructor(routes: RoutedStore[], retry: RetryOptions = {}) {
    this.routes = routes;
    this.url = routes.map((r) => r.store.url).join(",");
    this.#retry = retry;
  }

  #matching(id: Uint8Array): BlockStore[] {
    const first = id[0] ?? 0;
    return this.routes.filter((r) => first >= r.start && first <= r.end).map((r) => r.store);
  }

  async get(id: Uint8Array): Promise<Uint8Array> {
    const stores = this.#matching(id).sort(() => Math.random() - 0.5);
    const hex = Buffer.from(id).toString("hex");
    if (stores.length === 0) throw new StoreError(`no store route covers block ${hex}`, { details: { id: hex } });
    const errors: string[] = [];
    let allMissing = true;
    for (const store of stores) {
      try {
        return await withRetry(() => store.get(id), this.#retry);
      } catch (e) {
        if (!(e instanceof BlockNotFoundError)) allMissing = false;
        errors.push(`${store.url}: ${(e as Error).message}`);
      }
    }
    if (allMissing) throw new BlockNotFoundError(hex, { details: { stores: stores.map((s) => s.url) } });
    throw new StoreError(`cannot fetch block ${hex} from any store`, { details: { id: hex, errors } });
  }

  async set(id: Uint8Array, data: Uint8Array): Promise<void> {
    const stores = this.#matching(id);
    if (stores.length === 0) throw new StoreError(`no store route covers block ${Buffer.from(id).toString("hex")}`);
    await Promise.all(stores.map((s) => withRetry(() => s.set(id, data), this.#retry)));
  }

  async has(id: Uint8Array): Promise<boolean> {
    const stores = this.#matching(id);
    if (stores.length === 0) return false;
    const found = await Promise.all(stores.map((s) => s.has(id).catch(() => false)));
    return found.every(Boolean);
  }

  /** The local files of every matching store that has any (a reader falls back to `get()`). */
  localPaths(id: Uint8Array): string[] {
    return this.#matching(id).flatMap((s) => s.localPaths?.(id) ?? []);
  }

  /** Route rows for the flist's `route` table. */
  toRoutes(): FlistRoute[] {
    return this.routes.map((r) => ({ start: r.start, end: r.end, url: r.store.url }));
  }
}

/** One store from a URL: dir:///path, http(s)://host/path. */
export interface OpenStoreOptions {
  writable?: boolean;
  /** Limits, cancellation and egress hook for http(s) stores. */
  http?: HttpStoreOptions;
}

export function openStore(url: string, options: OpenStoreOptions = {}): BlockStore {
  if (url.startsWith("dir://")) return new DirStore(url.slice("dir://".length));
  if (url.startsWith("http://") || url.startsWith("https://")) return new HttpStore(url, { ...options.http, writable: options.writable ?? false });
  throw new StoreError(`unknown store URL ${url}`, { hint: "use dir:///path or http(s)://host/path", details: { url } });
}

/** A router from `[range=]url` specs (`00-7f=dir:///a`); no range means 00-ff. */
export function openStores(specs: string[], options: OpenStoreOptions & { retry?: RetryOptions } = {}): RouterStore {
  return new RouterStore(specs.map((spec) => {
    const m = /^([0-9a-f]{2})-([0-9a-f]{2})=(.+)$/i.exec(spec);
    if (!m) return { start: 0, end: 255, store: openStore(spec, options) };
    return { start: parseInt(m[1]!, 16), end: parseInt(m[2]!, 16), store: openStore(m[3]!, options) };
  }), options.retry);
}

/** A router from a flist's route table. */
export function storesFromRoutes(routes: FlistRoute[], retry?: RetryOptions, http?: HttpStoreOptions): RouterStore {
  return new RouterStore(routes.map((r) => ({ start: r.start, end: r.end, store: openStore(r.url, { http }) })), retry);
}
