/**
 * Flists can be named by path or by http(s) URL (a hub serves them): these helpers give callers a
 * local file either way.
 *
 * @example
 * ```ts
 * const path = await fetchFlistFile("http://hub/flists/0xabc/app.fl", "/var/cache/zgrid");
 * await withLocalFlist(urlOrPath, (path) => verify(path));
 * ```
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlistFormatError, StoreError } from "../errors/flist-errors.ts";
import { fetchToFile, type HttpFetchOptions } from "../store/bounded-fetch.ts";
import { DEFAULT_LISTING_LIMITS } from "./listing-limits.ts";

export function isFlistUrl(flist: string): boolean {
  return /^https?:\/\//.test(flist);
}

/**
 * Downloads an http(s) flist into `<dir>/flists/` (bounded: timeouts, at most 512 MiB unless
 * `http.maxBytes` says otherwise, egress hook, cancellation; nothing is left on failure);
 * returns local paths unchanged.
 */
export async function fetchFlistFile(flist: string, dir: string, http: HttpFetchOptions = {}): Promise<string> {
  if (!isFlistUrl(flist)) return flist;
  const target = join(dir, "flists");
  mkdirSync(target, { recursive: true });
  const path = join(target, `${createHash("sha256").update(flist).digest("hex").slice(0, 32)}.fl`);
  try {
    await fetchToFile(flist, path, { maxBytes: DEFAULT_LISTING_LIMITS.maxListingBytes, ...http });
  } catch (cause) {
    const reason = cause instanceof StoreError ? cause.details.reason : undefined;
    throw new FlistFormatError(`cannot download ${flist}: ${cause instanceof StoreError ? cause.shortMessage.replace(`${flist}: `, "") : (cause as Error).message}`, {
      cause, details: { url: flist, ...(reason ? { reason } : {}) }, hint: cause instanceof StoreError && cause.hint ? cause.hint : "check the URL and that the hub is up",
    });
  }
  return path;
}

/** Runs `fn` with a local path of the flist; a downloaded copy is removed afterwards. */
export async function withLocalFlist<T>(flist: string, fn: (path: string) => Promise<T>, http?: HttpFetchOptions): Promise<T> {
  if (!isFlistUrl(flist)) return fn(flist);
  const dir = mkdtempSync(join(tmpdir(), "zgrid-flist-"));
  try {
    return await fn(await fetchFlistFile(flist, dir, http));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
