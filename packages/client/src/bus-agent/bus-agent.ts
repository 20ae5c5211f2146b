/**
 * The bus agent (ssh-agent style): one process per data dir keeps its twin's bus (libp2p) open and
 * forwards node requests that short-lived commands send over a Unix socket, so a read command
 * (`zgrid vm ls`) neither loads libp2p nor dials anew (issue 14: the bus costs ~1 s of CPU).
 * The node still checks the twin's signed request: the agent signs with the key the data dir
 * already holds, and its socket (mode 0600, made under umask 0177) is no wider than that key file.
 *
 * Protocol: one JSON object per line. A connection first says `{ id: 0, op: "hello", twinId,
 * rpcUrl }` (an agent of another identity refuses); then `{ id, to, route, payload, timeout? }` →
 * `{ id, result }` | `{ id, error: { code, message, hint?, details? } }`; `{ id, op: "stop" }` ends
 * the agent. Bounded: connections, requests in flight per connection, line size, route names,
 * timeouts; a bad line is answered and the connection closed, the agent never dies on input.
 * It exits when idle (no request for `idleMs`) or told to stop; a stale socket of a killed agent
 * is replaced at the next start (a live one is left alone).
 *
 * @example
 * ```ts
 * const agent = await serveBusAgent({ socketPath: "/home/u/.zgrid/bus-agent.sock", identity: { twinId: 7, rpcUrl }, bus: () => openBus() });
 * await agent.closed; // idle, or `{ op: "stop" }`
 * ```
 */
import { createServer, connect, type Server, type Socket } from "node:net";
import { rm } from "node:fs/promises";
import { BaseError } from "@zgrid/types/core";

/** What the agent forwards to: the twin's bus. */
export interface AgentBackend {
  request<T = unknown>(twinId: number, command: string, payload?: unknown, options?: { timeout?: number }): Promise<T>;
}

export interface BusAgentLimits {
  connections: number;
  inFlightPerConnection: number;
  lineBytes: number;
  maxTimeoutMs: number;
}

export const BUS_AGENT_LIMITS: BusAgentLimits = { connections: 16, inFlightPerConnection: 16, lineBytes: 1 << 20, maxTimeoutMs: 60_000 };

export interface BusAgentOptions {
  socketPath: string;
  /** Whom it speaks for; a client of another identity is refused. */
  identity: { twinId: number; rpcUrl: string };
  /** The twin's bus, made on the first request. */
  bus: () => Promise<AgentBackend>;
  /** Exit after this long without a request (default 10 min). */
  idleMs?: number;
  limits?: Partial<BusAgentLimits>;
}

export interface RunningBusAgent {
  /** Settles when the agent stopped (idle, `stop`, or `close()`). */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/** Another agent already answers on the socket. */
export class BusAgentRunningError extends BaseError {
  override readonly code: string = "BUS_AGENT_RUNNING";
}

const ROUTE = /^[a-z][a-z0-9_.]{0,79}$/;

/** Listens on `socketPath` (replacing a dead agent's socket) and serves until idle or stopped. */
export async function serveBusAgent(o: BusAgentOptions): Promise<RunningBusAgent> {
  const limits = { ...BUS_AGENT_LIMITS, ...o.limits };
  const idleMs = o.idleMs ?? 600_000;
  if (await answers(o.socketPath)) throw new BusAgentRunningError(`a bus agent already answers on ${o.socketPath}`);
  await rm(o.socketPath, { force: true }); // a killed agent's socket: nobody listens on it
  let busPromise: Promise<AgentBackend> | undefined;
  const sockets = new Set<Socket>();
  let idle: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const server: Server = createServer((sock) => {
    if (sockets.size >= limits.connections) {
      sock.on("error", () => undefined);
      sock.end(`${JSON.stringify({ id: 0, error: { code: "BUS_AGENT_BUSY", message: `the bus agent serves at most ${limits.connections} connections` } })}\n`);
      return;
    }
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => undefined);
    serveConnection(sock);
  });
  const touch = (): void => {
    if (idle) clearTimeout(idle);
    idle = setTimeout(() => void stop(), idleMs);
    idle.unref();
  };
  const stop = (): Promise<void> => (stopping ??= (async () => {
    if (idle) clearTimeout(idle);
    server.close(); // no new connections; the open ones end here
    for (const s of sockets) s.destroy();
    await rm(o.socketPath, { force: true });
    if (busPromise) await busPromise.then((b) => (b as { stop?: () => Promise<void> }).stop?.(), () => undefined);
    resolveClosed();
  })());

  function serveConnection(sock: Socket): void {
    let buf = "";
    let hello = false;
    let inFlight = 0;
    const send = (m: unknown): void => { if (!sock.destroyed) sock.write(`${JSON.stringify(m)}\n`); };
    const refuse = (id: unknown, code: string, message: string): void => send({ id: typeof id === "number" ? id : 0, error: { code, message } });
    sock.setEncoding("utf8");
    sock.on("data", (chunk: string) => {
      buf += chunk;
      if (buf.length > limits.lineBytes && !buf.includes("\n")) {
        refuse(0, "BUS_AGENT_BAD_REQUEST", `a request line is longer than ${limits.lineBytes} bytes`);
        sock.end();
        buf = "";
        return;
      }
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        handle(line);
      }
    });
    function handle(line: string): void {
      let m: Record<string, unknown>;
      try {
        const v: unknown = JSON.parse(line);
        if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error("not an object");
        m = v as Record<string, unknown>;
      } catch {
        refuse(0, "BUS_AGENT_BAD_REQUEST", "a request line is not a JSON object");
        sock.end();
        return;
      }
      touch();
      if (m.op === "hello") {
        if (m.twinId !== o.identity.twinId || m.rpcUrl !== o.identity.rpcUrl) {
          refuse(m.id, "BUS_AGENT_IDENTITY", `this bus agent speaks for twin ${o.identity.twinId} on ${o.identity.rpcUrl}`);
          return;
        }
        hello = true;
        send({ id: m.id, result: { twinId: o.identity.twinId, pid: process.pid } });
        return;
      }
      if (m.op === "stop") {
        send({ id: m.id, result: { stopping: true } });
        void stop();
        return;
      }
      if (!hello) return refuse(m.id, "BUS_AGENT_BAD_REQUEST", "say hello first");
      if (typeof m.id !== "number" || !Number.isSafeInteger(m.id)) return refuse(0, "BUS_AGENT_BAD_REQUEST", "a request needs a numeric id");
      if (typeof m.to !== "number" || !Number.isSafeInteger(m.to) || m.to <= 0) return refuse(m.id, "BUS_AGENT_BAD_REQUEST", "`to` must be a twin id");
      if (typeof m.route !== "string" || !ROUTE.test(m.route)) return refuse(m.id, "BUS_AGENT_BAD_REQUEST", "`route` must be a route name like zos.deployment.get");
      if (inFlight >= limits.inFlightPerConnection) return refuse(m.id, "BUS_AGENT_BUSY", `at most ${limits.inFlightPerConnection} requests in flight per connection`);
      const timeout = typeof m.timeout === "number" && m.timeout > 0 ? Math.min(m.timeout, limits.maxTimeoutMs) : undefined;
      inFlight++;
      const id = m.id;
      (busPromise ??= o.bus().catch((e: unknown) => { busPromise = undefined; throw e; }))
        .then((bus) => bus.request(m.to as number, m.route as string, m.payload, timeout ? { timeout } : {}))
        .then((result) => send({ id, result: result ?? null }), (e: unknown) => send({ id, error: errorJson(e) }))
        .finally(() => { inFlight--; touch(); });
    }
  }

  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(o.socketPath, () => { server.off("error", reject); resolve(); });
    });
  } finally {
    process.umask(umask);
  }
  touch();
  return { closed, close: stop };
}

/** True when something accepts connections on `path` (a live agent). */
async function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once("connect", () => { s.destroy(); resolve(true); });
    s.once("error", () => resolve(false));
  });
}

function errorJson(e: unknown): { code: string; message: string; hint?: string; details?: Record<string, unknown> } {
  const x = e as { code?: unknown; shortMessage?: unknown; message?: unknown; hint?: unknown; details?: unknown };
  return {
    code: typeof x?.code === "string" ? x.code : "BUS_AGENT_FAILED",
    message: typeof x?.shortMessage === "string" ? x.shortMessage : typeof x?.message === "string" ? x.message : String(e),
    ...(typeof x?.hint === "string" ? { hint: x.hint } : {}),
    ...(x?.details && typeof x.details === "object" ? { details: x.details as Record<string, unknown> } : {}),
  };
}
