/**
 * The client side of the bus agent (bus-agent.ts): a `request` like the bus's, over the agent's
 * Unix socket. `connectAgentBus` answers undefined when no agent of this identity answers (none
 * running, a stale socket, another twin's agent): the caller then uses its own bus.
 *
 * @example
 * ```ts
 * const bus = await connectAgentBus("/home/u/.zgrid/bus-agent.sock", { twinId: 7, rpcUrl });
 * if (bus) console.log(await bus.request(3, "zos.deployment.get", { contract_id: 12 }, { timeout: 8000 }));
 * bus?.close();
 * ```
 */
import { connect, type Socket } from "node:net";
import { BaseError } from "@zgrid/types/core";
import type { AgentBackend } from "./bus-agent.ts";

/** An error the node (or the agent's bus) answered, with its code, as the bus would throw it. */
export class BusAgentRemoteError extends BaseError {
  override readonly code: string;
  constructor(remote: { code: string; message: string; hint?: string; details?: Record<string, unknown> }) {
    super(remote.message, { ...(remote.hint ? { hint: remote.hint } : {}), ...(remote.details ? { details: remote.details } : {}) });
    this.code = remote.code;
  }
}

export interface AgentBus extends AgentBackend {
  close(): void;
}

interface Answer { id: number; result?: unknown; error?: { code: string; message: string; hint?: string; details?: Record<string, unknown> } }

/** Bytes of answers kept while a line is incomplete (the node's answers are bounded by the bus). */
const MAX_ANSWER = 64 << 20;

/** Connects and says hello; undefined when no agent of this identity answers within `timeoutMs`. */
export async function connectAgentBus(socketPath: string, identity: { twinId: number; rpcUrl: string }, timeoutMs = 1_000): Promise<AgentBus | undefined> {
  const sock: Socket = connect(socketPath);
  sock.setEncoding("utf8");
  const waiting = new Map<number, (a: Answer) => void>();
  let nextId = 1;
  let buf = "";
  const fail = (message: string): void => {
    for (const [id, w] of [...waiting]) w({ id, error: { code: "BUS_AGENT_GONE", message } });
  };
  sock.on("data", (chunk: string) => {
    buf += chunk;
    if (buf.length > MAX_ANSWER) { sock.destroy(); fail("the bus agent sent an answer past the bound"); return; }
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let a: Answer;
      try {
        a = JSON.parse(line) as Answer;
      } catch {
        continue;
      }
      waiting.get(a.id)?.(a);
    }
  });
  sock.on("error", () => fail("the bus agent connection failed"));
  sock.on("close", () => fail("the bus agent closed the connection"));
  /** One request; its answer, or a BUS_AGENT_GONE error after `waitMs` (an agent that hangs). */
  const ask = (m: Record<string, unknown>, id: number, waitMs = 35_000): Promise<Answer> => new Promise((resolve) => {
    sock.ref(); // a request in flight keeps the command alive; none does not
    const timer = setTimeout(() => done({ id, error: { code: "BUS_AGENT_GONE", message: `the bus agent did not answer within ${waitMs} ms` } }), waitMs);
    const done = (a: Answer): void => {
      clearTimeout(timer);
      waiting.delete(id);
      if (waiting.size === 0) sock.unref();
      resolve(a);
    };
    waiting.set(id, done);
    sock.write(`${JSON.stringify({ ...m, id })}\n`);
  });
  const hello = await Promise.race([
    new Promise<boolean>((resolve) => { sock.once("connect", () => resolve(true)); sock.once("error", () => resolve(false)); })
      .then(async (up) => (up ? ask({ op: "hello", twinId: identity.twinId, rpcUrl: identity.rpcUrl }, 0, timeoutMs) : undefined)),
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), timeoutMs).unref()),
  ]);
  if (!hello || hello.error) {
    sock.destroy();
    return undefined;
  }
  return {
    async request<T = unknown>(twinId: number, command: string, payload?: unknown, options: { timeout?: number } = {}): Promise<T> {
      const a = await ask({ to: twinId, route: command, payload, ...(options.timeout ? { timeout: options.timeout } : {}) }, nextId++, (options.timeout ?? 30_000) + 5_000);
      if (a.error) throw new BusAgentRemoteError(a.error);
      return a.result as T;
    },
    close() {
      sock.destroy();
    },
  };
}

/** Tells the agent on `socketPath` to stop (no-op when none answers). */
export async function stopBusAgent(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(socketPath);
    s.setEncoding("utf8");
    s.once("connect", () => s.write(`${JSON.stringify({ id: 1, op: "stop" })}\n`));
    s.on("data", () => { s.destroy(); resolve(true); });
    s.once("error", () => resolve(false));
    s.once("close", () => resolve(false));
  });
}
