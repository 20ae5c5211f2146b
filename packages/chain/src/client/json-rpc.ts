/**
 * One bounded JSON-RPC call to a chain node over node:http(s), with no contract addresses and no viem:
 * what the light reader (chain-reader.ts) and a process that only knows an RPC URL (a
 * network-booted node waiting for its funds, @zgrid/os) use. Every call has a deadline and an
 * answer-size bound (checked while reading: a larger answer is cut off, never buffered whole); any
 * failure is a ChainError naming the method and the URL. Not `fetch`: loading Node's bundled undici
 * costs a read command ~0.08 s of its start-up (issue 14), and a keep-alive agent reuses one
 * connection for a command's few calls.
 *
 * @example
 * ```ts
 * const block = await jsonRpcCall({ rpcUrl: "http://127.0.0.1:8545", method: "eth_blockNumber" }); // "0x1a"
 * const wei = await nativeBalance({ rpcUrl: "http://127.0.0.1:8545", account: "0xabc…" });           // 10n ** 20n
 * ```
 */
import type * as Http from "node:http";
import type * as Https from "node:https";
import { createRequire } from "node:module";
import { ChainError } from "../errors/chain-error.ts";

// `require`, not `import`: the ESM facade of node:http evaluates every export, and its WebSocket
// getters load Node's bundled undici after all (~0.06 s CPU measured here); require does not
const require = createRequire(import.meta.url);
const http = require("node:http") as typeof Http;
let https: typeof Https | undefined;

export interface JsonRpcOptions {
  rpcUrl: string;
  /** Deadline of the whole call (default 15 s). */
  timeoutMs?: number;
  /** Largest answer read, bytes (default 8 MiB). */
  maxBytes?: number;
}

let nextId = 1;

/** Sends `method(params)`; resolves the answer's `result`. Throws ChainError (transport, size, RPC error). */
export async function jsonRpcCall(o: JsonRpcOptions & { method: string; params?: readonly unknown[] }): Promise<unknown> {
  const maxBytes = o.maxBytes ?? 8 * 1024 * 1024;
  let body: { result?: unknown; error?: { message?: string } };
  try {
    const text = await postJson(o.rpcUrl, JSON.stringify({ jsonrpc: "2.0", id: nextId++, method: o.method, params: o.params ?? [] }), o.timeoutMs ?? 15_000, maxBytes);
    body = JSON.parse(text) as typeof body;
  } catch (e) {
    throw new ChainError(`${o.method}: the chain at ${o.rpcUrl} did not answer: ${(e as Error).message}`, { cause: e, hint: "is the chain running and reachable from here?" });
  }
  if (body.error || body.result === undefined) throw new ChainError(`${o.method} failed: ${body.error?.message ?? "no result"}`, { details: { method: o.method } });
  return body.result;
}

/** The native-currency balance (wei) of `account`: `eth_getBalance` at the latest block. */
export async function nativeBalance(o: JsonRpcOptions & { account: string }): Promise<bigint> {
  const r = await jsonRpcCall({ ...o, method: "eth_getBalance", params: [o.account, "latest"] });
  if (typeof r !== "string" || !/^0x[0-9a-fA-F]{1,64}$/.test(r)) throw new ChainError(`eth_getBalance: the chain at ${o.rpcUrl} answered no balance`, { details: { account: o.account } });
  return BigInt(r);
}

// keep-alive, but no idle socket holds a process open (a command exits when its work is done)
const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 4 });
let httpsAgent: Https.Agent | undefined;

/** POSTs a JSON body; resolves the answer's text. Rejects past the deadline, on HTTP errors, or past `maxBytes`. */
function postJson(url: string, body: string, timeoutMs: number, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") return reject(new Error(`unsupported URL scheme ${u.protocol}`));
    let settled = false;
    /** Settles once; a failure also drops the connection (no half-read answer goes back to the pool). */
    const finish = (e: Error | undefined, text?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (e) {
        req.destroy();
        reject(e);
      } else resolve(text!);
    };
    const tls = u.protocol === "https:" ? (https ??= require("node:https") as typeof Https) : undefined;
    const send = tls ? tls.request : http.request;
    const agent = tls ? (httpsAgent ??= new tls.Agent({ keepAlive: true, maxSockets: 4 })) : httpAgent;
    const req = send(u, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) return finish(new Error(`an answer of more than ${maxBytes} bytes`));
        chunks.push(c);
      });
      res.on("end", () => {
        const status = res.statusCode ?? 0;
        finish(status < 200 || status >= 300 ? new Error(`HTTP ${status}`) : undefined, Buffer.concat(chunks).toString("utf8"));
      });
      res.on("error", (e) => finish(e));
    });
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on("error", (e) => finish(e));
    req.on("socket", (s) => s.unref());
    req.end(body);
  });
}
