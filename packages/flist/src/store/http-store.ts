/**
 * http(s):// store: GET `<base>/<hh>/<id hex>` (rfs layout). Read-only unless `writable` (the hub
 * accepts PUT of blocks it verifies). Transient failures are retried by the router.
 *
 * @example
 * ```ts
 * const store = new HttpStore("http://127.0.0.1:8080/blocks");
 * ```
 */
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { BlockNotFoundError, StoreError } from "../errors/flist-errors.ts";
import { blockPath, type BlockStore } from "./block-store.ts";
import { boundedRequest, fetchBytes, type HttpFetchOptions } from "./bounded-fetch.ts";

export interface HttpStoreOptions extends Omit<HttpFetchOptions, "method" | "body" | "agent"> {
  /** Allow PUT (for a hub). Plain http stores are read-only. */
  writable?: boolean;
  /** @deprecated use bodyTimeoutMs/headersTimeoutMs; kept as the headers timeout. */
  timeoutMs?: number;
  /** Adds headers per request (e.g. a signed authorization for a hub PUT). */
  sign?: (method: "PUT", path: string) => Record<string, string>;
}

/** Largest block accepted from an http store unless told otherwise (rfs blocks are ~512 KiB). */
export const MAX_HTTP_BLOCK_BYTES = 64 * 2 ** 20;

export class HttpStore implements BlockStore {
  readonly url: string;
  readonly #options: HttpStoreOptions;
  readonly #fetch: HttpFetchOptions;

  constructor(url: string, options: HttpStoreOptions = {}) {
    this.url = url.replace(/\/+$/, "");
    this.#options = options;
    const agent = this.url.startsWith("https:") ? new HttpsAgent({ keepAlive: true, maxSockets: 16 }) : new HttpAgent({ keepAlive: true, maxSockets: 16 });
    const { writable: _w, timeoutMs, sign: _s, ...rest } = options;
    this.#fetch = { maxBytes: MAX_HTTP_BLOCK_BYTES, ...(timeoutMs ? { headersTimeoutMs: timeoutMs } : {}), ...rest, agent };
  }

  #blockUrl(id: Uint8Array): string {
    return `${this.url}/${blockPath(id)}`;
  }

  async get(id: Uint8Array): Promise<Uint8Array> {
    const hex = Buffer.from(id).toString("hex");
    const res = await boundedRequest(this.#blockUrl(id), this.#fetch);
    if (res.status === 404) {
      res.discard();
      throw new BlockNotFoundError(hex, { details: { store: this.url } });
    }
    if (res.status < 200 || res.status > 299) {
      res.discard();
      throw new StoreError(`${this.url} answered ${res.status} for block ${hex}`, { details: { store: this.url, status: res.status, id: hex } });
    }
    const chunks: Buffer[] = [];
    await res.consume((c) => void chunks.push(c));
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }

  async set(id: Uint8Array, data: Uint8Array): Promise<void> {
    if (!this.#options.writable) throw new StoreError(`${this.url} is a read-only http store`, { hint: "write to a dir:// store or push to a hub" });
    const url = this.#blockUrl(id);
    const headers = { ...this.#fetch.headers, ...this.#options.sign?.("PUT", new URL(url).pathname) };
    const res = await fetchBytes(url, { ...this.#fetch, method: "PUT", body: data, headers, maxBytes: 65536 });
    if (res.status < 200 || res.status > 299) {
      let reason = String(res.status);
      try { reason = (JSON.parse(res.body.toString()) as { error?: string }).error ?? reason; } catch { /* not JSON */ }
      throw new StoreError(`${this.url} refused block ${Buffer.from(id).toString("hex")}: ${reason}`, { details: { status: res.status } });
    }
  }

  async has(id: Uint8Array): Promise<boolean> {
    const res = await fetchBytes(this.#blockUrl(id), { ...this.#fetch, method: "HEAD" });
    return res.status >= 200 && res.status <= 299;
  }
}
