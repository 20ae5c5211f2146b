/**
 * http(s):// store: GET `<base>/<hh>/<id hex>` (rfs layout). Read-only unless `writable` (the hub
 * accepts PUT of blocks it verifies). Transient failures are retried by the router.
 *
 * @example
 * ```ts
 * const store = new HttpStore("http://127.0.0.1:8080/blocks");
 * ```
 */
import { BlockNotFoundError, StoreError } from "../errors/flist-errors.ts";
import { blockPath, type BlockStore } from "./block-store.ts";

export interface HttpStoreOptions {
  /** Allow PUT (for a hub). Plain http stores are read-only. */
  writable?: boolean;
  /** Per-request timeout, ms. */
  timeoutMs?: number;
  headers?: Record<string, string>;
}

export class HttpStore implements BlockStore {
  readonly url: string;
  readonly #options: HttpStoreOptions;

  constructor(url: string, options: HttpStoreOptions = {}) {
    this.url = url.replace(/\/+$/, "");
    this.#options = options;
  }

  #blockUrl(id: Uint8Array): string {
    return `${this.url}/${blockPath(id)}`;
  }

  async get(id: Uint8Array): Promise<Uint8Array> {
    const hex = Buffer.from(id).toString("hex");
    let res: Response;
    try {
      res = await fetch(this.#blockUrl(id), { headers: this.#options.headers, signal: AbortSignal.timeout(this.#options.timeoutMs ?? 60_000) });
    } catch (cause) {
      throw new StoreError(`cannot reach ${this.url}`, { cause, details: { store: this.url, id: hex } });
    }
    if (res.status === 404) {
      await res.body?.cancel();
      throw new BlockNotFoundError(hex, { details: { store: this.url } });
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new StoreError(`${this.url} answered ${res.status} for block ${hex}`, { details: { store: this.url, status: res.status, id: hex } });
    }
    return new Uint8Array(await res.arrayBuffer());
  }

  async set(id: Uint8Array, data: Uint8Array): Promise<void> {
    if (!this.#options.writable) throw new StoreError(`${this.url} is a read-only http store`, { hint: "write to a dir:// store or push to a hub" });
    const res = await fetch(this.#blockUrl(id), { method: "PUT", body: data, headers: this.#options.headers, signal: AbortSignal.timeout(this.#options.timeoutMs ?? 60_000) });
    await res.body?.cancel();
    if (!res.ok) throw new StoreError(`${this.url} refused block ${Buffer.from(id).toString("hex")} (${res.status})`, { details: { status: res.status } });
  }

  async has(id: Uint8Array): Promise<boolean> {
    const res = await fetch(this.#blockUrl(id), { method: "HEAD", headers: this.#options.headers });
    await res.body?.cancel();
    return res.ok;
  }
}
