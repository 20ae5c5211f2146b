/**
 * HTTP(S) requests for data that comes from outside (flist files, blocks), bounded in every way an
 * attacker's server could abuse: a connect timeout, a time limit for the response headers, a total
 * time limit and an idle limit for the body (a server sending 1 byte every 5 s fails after
 * `bodyTimeoutMs`), a byte cap (refused from Content-Length before anything is read, else when the
 * count passes it), cancellation by AbortSignal, and an egress hook: `checkAddress(ip, family)` is
 * called with every address the host resolves to (and with IP literals) BEFORE connecting, so the
 * node can refuse loopback, link-local, its own addresses... Redirects are not followed.
 *
 * @example
 * ```ts
 * const { status, body } = await fetchBytes("http://hub/blocks/ab/ab…", {
 *   maxBytes: 16 * 2 ** 20, signal: contract.signal,
 *   checkAddress: (ip) => { if (ip.startsWith("127.")) throw new Error("loopback is not allowed"); },
 * });
 * await fetchToFile("http://hub/flists/0x…/app.fl", "/cache/app.fl", { maxBytes: 512 * 2 ** 20 });
 * ```
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { createWriteStream, renameSync, rmSync } from "node:fs";
import { request as httpRequest, type Agent, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { StoreError } from "../errors/flist-errors.ts";

/** Plain, serializable limits (they can be passed to a mount's child process). */
export interface HttpLimits {
  /** TCP (+TLS) connect, ms. Default 10 s. */
  connectTimeoutMs?: number;
  /** From connected to response headers, ms. Default 30 s. */
  headersTimeoutMs?: number;
  /** Whole body, ms. Default 120 s. */
  bodyTimeoutMs?: number;
  /** Longest pause between two body chunks, ms. Default 30 s. */
  idleTimeoutMs?: number;
  /** Largest body, bytes (default per use: 64 MiB for blocks, 512 MiB for .fl files). */
  maxBytes?: number;
}

export interface HttpFetchOptions extends HttpLimits {
  signal?: AbortSignal;
  /** Egress policy: throw (or reject) to refuse an address. Called for every resolved address. */
  checkAddress?: (address: string, family: number) => void | Promise<void>;
  /** DNS lookup to use instead of dns.lookup (e.g. the node's resolver). */
  lookup?: LookupFunction;
  headers?: Record<string, string>;
  method?: "GET" | "HEAD" | "PUT";
  body?: Uint8Array;
  /** Connection pool (keep-alive) to use; default: a new connection per request. */
  agent?: Agent;
}

export type FetchFailure = "timeout" | "too-large" | "refused-address" | "aborted" | "network";

function fail(url: string, reason: FetchFailure, message: string, cause?: unknown): StoreError {
  const hints: Record<FetchFailure, string> = {
    timeout: "the server is too slow or stalls; try another store or mirror",
    "too-large": "the server sends more than allowed: it is not a valid flist or block",
    "refused-address": "this address is not allowed by the node's egress policy",
    aborted: "the request was cancelled",
    network: "check the URL and that the server is up",
  };
  return new StoreError(`${url}: ${message}`, { cause, details: { url, reason }, hint: hints[reason] });
}

/** dns.lookup (or `options.lookup`) whose every answer passes `checkAddress`. */
function checkedLookup(o: HttpFetchOptions): LookupFunction | undefined {
  const check = o.checkAddress;
  if (!check && !o.lookup) return undefined;
  const base = (o.lookup ?? dnsLookup) as LookupFunction;
  return ((hostname: string, options: { all?: boolean }, cb: (err: Error | null, address: string | LookupAddress[], family?: number) => void) => {
    base(hostname, options, (err, address, family) => {
      if (err) return cb(err, "", 0);
      const list: LookupAddress[] = Array.isArray(address) ? address : [{ address, family: family ?? 4 }];
      Promise.all(list.map(async (a) => { if (check) await check(a.address, a.family); })).then(
        () => (options.all ? cb(null, list) : cb(null, list[0]!.address, list[0]!.family)),
        (e: unknown) => cb(e as Error, "", 0),
      );
    });
  }) as LookupFunction;
}

export interface BoundedResponse {
  status: number;
  headers: IncomingMessage["headers"];
  /** Reads the body under the limits, handing each chunk to `onChunk`. */
  consume(onChunk: (chunk: Buffer) => void | Promise<void>): Promise<number>;
  /** Drops the body. */
  discard(): void;
}

/** Sends a request; resolves when headers arrived (within the limits). */
export function boundedRequest(url: string, o: HttpFetchOptions = {}): Promise<BoundedResponse> {
  const u = new URL(url);
  if (u.protocol !== "http:" && u.protocol !== "https:") return Promise.reject(fail(url, "network", `unsupported protocol ${u.protocol}`));
  const connectMs = o.connectTimeoutMs ?? 10_000;
  const headersMs = o.headersTimeoutMs ?? 30_000;
  const host = u.hostname.replace(/^\[|\]$/g, "");
  return new Promise<BoundedResponse>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const abort = (): void => { req.destroy(fail(url, "aborted", "request aborted")); };
    const done = (e: Error | undefined, r?: BoundedResponse): void => {
      if (timer) clearTimeout(timer);
      if (settled) return;
      settled = true;
      o.signal?.removeEventListener("abort", abort);
      if (e) reject(e instanceof StoreError ? e : fail(url, /refus|not allowed|policy/i.test(e.message) ? "refused-address" : "network", e.message, e));
      else resolve(r!);
    };
    const start = async (): Promise<void> => {
      // IP literals never go through lookup: check them here.
      if (o.checkAddress && isIP(host)) await o.checkAddress(host, isIP(host));
    };
    const req = (u.protocol === "https:" ? httpsRequest : httpRequest)(u, {
      method: o.method ?? "GET", headers: o.headers, lookup: checkedLookup(o), agent: o.agent ?? false,
    });
    if (o.signal?.aborted) { abort(); } else o.signal?.addEventListener("abort", abort, { once: true });
    timer = setTimeout(() => req.destroy(fail(url, "timeout", `no connection within ${connectMs} ms`)), connectMs);
    const waitHeaders = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => req.destroy(fail(url, "timeout", `no response headers within ${headersMs} ms`)), headersMs);
    };
    req.once("socket", (socket) => {
      // A kept-alive socket is already connected.
      if (!socket.connecting) waitHeaders();
      else socket.once(u.protocol === "https:" ? "secureConnect" : "connect", waitHeaders);
    });
    req.once("error", (e) => done(e));
    req.once("response", (res) => {
      clearTimeout(timer);
      const consume = (onChunk: (chunk: Buffer) => void | Promise<void>): Promise<number> => readBody(url, res, req, o, onChunk);
      done(undefined, { status: res.statusCode ?? 0, headers: res.headers, consume, discard: () => { res.resume(); req.destroy(); } });
    });
    start().then(() => req.end(o.body), (e: unknown) => req.destroy(fail(url, "refused-address", (e as Error).message, e)));
  });
}

function readBody(url: string, res: IncomingMessage, req: { destroy(e?: Error): void }, o: HttpFetchOptions, onChunk: (c: Buffer) => void | Promise<void>): Promise<number> {
  const max = o.maxBytes ?? 64 * 2 ** 20;
  const bodyMs = o.bodyTimeoutMs ?? 120_000;
  const idleMs = o.idleTimeoutMs ?? 30_000;
  const declared = Number(res.headers["content-length"] ?? NaN);
  if (declared > max) {
    req.destroy();
    return Promise.reject(fail(url, "too-large", `body of ${declared} bytes is larger than the limit of ${max}`));
  }
  return new Promise<number>((resolve, reject) => {
    let total = 0;
    let finished = false;
    const finish = (e?: Error): void => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      clearTimeout(idle);
      o.signal?.removeEventListener("abort", onAbort);
      if (e) {
        req.destroy();
        res.destroy();
        reject(e);
      } else resolve(total);
    };
    const onAbort = (): void => finish(fail(url, "aborted", "request aborted"));
    const deadline = setTimeout(() => finish(fail(url, "timeout", `body not complete within ${bodyMs} ms (${total} bytes so far)`)), bodyMs);
    let idle = setTimeout(() => finish(fail(url, "timeout", `no body data for ${idleMs} ms`)), idleMs);
    if (o.signal?.aborted) return onAbort();
    o.signal?.addEventListener("abort", onAbort, { once: true });
    void (async () => {
      try {
        for await (const chunk of res as AsyncIterable<Buffer>) {
          if (finished) return;
          clearTimeout(idle);
          idle = setTimeout(() => finish(fail(url, "timeout", `no body data for ${idleMs} ms`)), idleMs);
          total += chunk.length;
          if (total > max) return finish(fail(url, "too-large", `body is larger than the limit of ${max} bytes`));
          await onChunk(chunk);
        }
        finish();
      } catch (e) {
        finish(e instanceof StoreError ? e : fail(url, "network", (e as Error).message, e));
      }
    })();
  });
}

/** GET (or other method) with the whole body in memory, at most `maxBytes` (default 64 MiB). */
export async function fetchBytes(url: string, o: HttpFetchOptions = {}): Promise<{ status: number; body: Buffer }> {
  const res = await boundedRequest(url, o);
  if (o.method === "HEAD") {
    res.discard();
    return { status: res.status, body: Buffer.alloc(0) };
  }
  const chunks: Buffer[] = [];
  await res.consume((c) => void chunks.push(c));
  return { status: res.status, body: Buffer.concat(chunks) };
}

/**
 * Streams a 2xx body into `file` (via a temp file renamed at the end; nothing is left behind on
 * any failure). Default cap 512 MiB. Returns the number of bytes.
 */
export async function fetchToFile(url: string, file: string, o: HttpFetchOptions = {}): Promise<number> {
  const res = await boundedRequest(url, o);
  if (res.status < 200 || res.status > 299) {
    res.discard();
    throw new StoreError(`${url}: HTTP ${res.status}`, { details: { url, status: res.status }, hint: "check the URL" });
  }
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const out = createWriteStream(tmp);
  const written = new Promise<void>((resolve, reject) => { out.once("finish", resolve); out.once("error", reject); });
  // A body refused mid-way destroys the stream below while a write may be in flight: that write's
  // late ERR_STREAM_DESTROYED must not surface as an unhandled rejection (seen in CI, stop 30).
  written.catch(() => undefined);
  const drained = (): Promise<void> => new Promise<void>((resolve, reject) => {
    const onDrain = (): void => { out.off("error", onError); resolve(); };
    const onError = (e: Error): void => { out.off("drain", onDrain); reject(e); };
    out.once("drain", onDrain);
    out.once("error", onError);
  });
  try {
    const n = await res.consume((c) => (out.write(c) ? undefined : drained()));
    out.end();
    await written;
    renameSync(tmp, file);
    return n;
  } catch (e) {
    if (!out.closed) await new Promise<void>((r) => { out.once("close", () => r()); out.destroy(); });
    rmSync(tmp, { force: true });
    throw e;
  }
}
