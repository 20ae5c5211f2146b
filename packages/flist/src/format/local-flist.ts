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
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlistFormatError } from "../errors/flist-errors.ts";

export function isFlistUrl(flist: string): boolean {
  return /^https?:\/\//.test(flist);
}

/** Downloads an http(s) flist into `<dir>/flists/`; returns local paths unchanged. */
export async function fetchFlistFile(flist: string, dir: string): Promise<string> {
  if (!isFlistUrl(flist)) return flist;
  let res: Response;
  try {
    res = await fetch(flist);
  } catch (cause) {
    throw new FlistFormatError(`cannot download ${flist}`, { cause, details: { url: flist }, hint: "check the URL and that the hub is up" });
  }
  if (!res.ok) throw new FlistFormatError(`cannot download ${flist}: HTTP ${res.status}`, { details: { url: flist, status: res.status }, hint: "check the URL" });
  const target = join(dir, "flists");
  mkdirSync(target, { recursive: true });
  const path = join(target, `${createHash("sha256").update(flist).digest("hex").slice(0, 32)}.fl`);
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, Buffer.from(await res.arrayBuffer()));
  renameSync(tmp, path);
  return path;
}

/** Runs `fn` with a local path of the flist; a downloaded copy is removed afterwards. */
export async function withLocalFlist<T>(flist: string, fn: (path: string) => Promise<T>): Promise<T> {
  if (!isFlistUrl(flist)) return fn(flist);
  const dir = mkdtempSync(join(tmpdir(), "zgrid-flist-"));
  try {
    return await fn(await fetchFlistFile(flist, dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
