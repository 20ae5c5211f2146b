/**
 * GET over http(s) on a tenant's behalf, bounded: the URL passes the EgressPolicy (the connection
 * goes to the checked address, TLS still verifies the name), a deadline for the whole transfer, a
 * size cap (Content-Length checked first, then every chunk), an AbortSignal, and no redirects.
 * The body is streamed to `file` (a temp name, renamed when complete), so a large body never sits
 * in memory; nothing is left behind on failure.
 *
 * @example
 * ```ts
 * await egressDownload("https://hub.example/flists/0xab/app.fl", "/var/cache/app.fl",
 *   { policy, timeoutMs: 60_000, maxBytes: 64 * 2 ** 20, signal: contractAbort.signal });
 * ```
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { BaseError } from "@zgrid/types";
import type { EgressPolicy } from "./egress-policy.ts";

export class EgressFetchError extends BaseError {
  override readonly code: string = "EGRESS_FETCH";
}

export interface EgressFetchOptions {
  policy: EgressPolicy;
  /** Deadline for the whole transfer (connect, headers and body). */
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal;
}

export async function egressDownload(url: string, file: string, o: EgressFetchOptions): Promise<void> {
  const u = new URL(url);
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new EgressFetchError(`cannot download ${url}: only http and https URLs`, { details: { url } });
  const target = await o.policy.resolve(url);
  const pinned: LookupFunction = (_host, options, cb) => {
    if ((options as { all?: boolean }).all) (cb as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address: target.address, family: target.family }]);
    else cb(null, target.address, target.family);
  };
  const tmp = `${file}.part-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const ac = new AbortController();
  const onAbort = () => ac.abort(o.signal?.reason ?? new Error("aborted"));
  o.signal?.addEventListener("abort", onAbort, { once: true });
  if (o.signal?.aborted) onAbort();
  const timer = setTimeout(() => ac.abort(new EgressFetchError(`download of ${url} took longer than ${o.timeoutMs / 1000} s`, { details: { url, timeoutMs: o.timeoutMs }, hint: "use a faster source" })), o.timeoutMs);
  let out: WriteStream | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (e: unknown) => reject(ac.signal.aborted ? reasonOf(ac.signal, url) : e instanceof BaseError ? e : new EgressFetchError(`cannot download ${url}: ${(e as Error).message}`, { details: { url }, cause: e }));
      const req = (u.protocol === "https:" ? httpsRequest : httpRequest)(u, { method: "GET", lookup: pinned, signal: ac.signal, headers: { "user-agent": "zosd" } }, (res: IncomingMessage) => {
        if ((res.statusCode ?? 0) >= 300) {
          res.resume();
          return reject(new EgressFetchError(`cannot download ${url}: HTTP ${res.statusCode}${(res.statusCode ?? 0) < 400 ? " (redirects are not followed)" : ""}`, { details: { url, status: res.statusCode } }));
        }
        const length = Number(res.headers["content-length"] ?? NaN);
        if (length > o.maxBytes) {
          reject(tooBig(url, o.maxBytes));
          return res.destroy();
        }
        let got = 0;
        const ws = createWriteStream(tmp);
        out = ws;
        ws.on("error", fail);
        res.on("data", (chunk: Buffer) => {
          got += chunk.length;
          if (got > o.maxBytes) {
            reject(tooBig(url, o.maxBytes));
            res.destroy();
            ws.destroy();
          }
        });
        res.on("error", fail);
        res.pipe(ws);
        ws.on("finish", () => (got <= o.maxBytes && !ac.signal.aborted ? resolve() : fail(new Error("incomplete"))));
        res.on("aborted", () => fail(new Error("connection closed before the body was complete")));
      });
      req.on("error", fail);
      req.end();
    });
    await rename(tmp, file);
  } catch (e) {
    // The stream opens its file asynchronously: one destroyed before that open completes still
    // creates the file afterwards. Wait for it to close, then remove it (a partial file was left
    // when a chunked body passed the cap within its first chunks).
    const stream = out;
    if (stream && !stream.closed) await new Promise<void>((r) => { stream.once("close", () => r()); stream.destroy(); });
    await rm(tmp, { force: true });
    throw e;
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener("abort", onAbort);
  }
}

function tooBig(url: string, max: number): EgressFetchError {
  return new EgressFetchError(`cannot download ${url}: larger than the limit of ${max} bytes`, { details: { url, maxBytes: max }, hint: "use a smaller flist" });
}

function reasonOf(signal: AbortSignal, url: string): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new EgressFetchError(`download of ${url} was cancelled`, { details: { url } });
}
