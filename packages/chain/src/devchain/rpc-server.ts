/**
 * A JSON-RPC 2.0 HTTP server (single and batch requests) in front of an EIP-1193 provider, on
 * 127.0.0.1, so other processes (node daemons, the CLI) reach the in-process EVM. Requests run one
 * at a time, which keeps the state journal in the order the chain saw them.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createLogger } from "@zgrid/log";
import type { Eip1193Provider } from "./edr-provider.ts";
import { appendJournal, STATE_CHANGING } from "./journal.ts";

const log = createLogger("chain.devchain.rpc");

interface RpcRequest { jsonrpc?: string; id?: unknown; method?: string; params?: unknown[] }

export interface RpcServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface RpcServerOptions {
  provider: Eip1193Provider;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Append state-changing calls here (see journal.ts). */
  journalPath?: string;
}

/**
 * @example
 * ```ts
 * const server = await startRpcServer({ provider, port: 8545 });
 * console.log(server.url); // http://127.0.0.1:8545
 * ```
 */
export async function startRpcServer(options: RpcServerOptions): Promise<RpcServer> {
  const { provider, journalPath } = options;
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };

  async function latestBlock(): Promise<{ number: string; timestamp: string }> {
    return (await provider.request({ method: "eth_getBlockByNumber", params: ["latest", false] })) as { number: string; timestamp: string };
  }

  async function handleOne(req: RpcRequest): Promise<object> {
    const id = req.id ?? null;
    if (typeof req.method !== "string") return { jsonrpc: "2.0", id, error: { code: -32600, message: "invalid request" } };
    const method = req.method;
    const params = Array.isArray(req.params) ? req.params : [];
    return serial(async () => {
      const journal = journalPath !== undefined && STATE_CHANGING.has(method);
      const before = journal ? await latestBlock() : undefined;
      let response: object;
      let failed = false;
      try {
        response = { jsonrpc: "2.0", id, result: await provider.request({ method, params }) };
      } catch (e) {
        failed = true;
        const err = e as { code?: number; message?: string; data?: unknown };
        response = { jsonrpc: "2.0", id, error: { code: typeof err.code === "number" ? err.code : -32603, message: err.message ?? String(e), ...(err.data !== undefined ? { data: err.data } : {}) } };
      }
      if (journal && before) {
        const after = await latestBlock();
        const mined = after.number !== before.number;
        if (!failed || mined) appendJournal(journalPath!, { method, params, ...(mined ? { minedAt: Number(after.timestamp) } : {}) });
      }
      return response;
    });
  }

  const server: Server = createServer((req, res) => {
    if (req.method !== "POST") { res.writeHead(405).end(); return; }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        let body: unknown;
        try { body = JSON.parse(Buffer.concat(chunks).toString("utf8")); } catch {
          res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } }));
          return;
        }
        const out = Array.isArray(body) ? await Promise.all(body.map((r) => handleOne(r as RpcRequest))) : await handleOne(body as RpcRequest);
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(out, (_k, v: unknown) => (typeof v === "bigint" ? `0x${v.toString(16)}` : v)));
      })().catch((e: unknown) => { log.error({ err: e }, "rpc handler failed"); res.writeHead(500).end(); });
    });
  });
  server.keepAliveTimeout = 60_000;
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
