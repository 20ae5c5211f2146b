// The bus agent's socket side: what it forwards, to whom it answers, its bounds against a hostile
// client, a killed agent's stale socket, idle exit. The backend here is a labelled stand-in for the
// twin's bus (it records what it was asked); bench/cli/startup.ts runs the agent over a real
// libp2p bus and a dev chain.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { BaseError } from "@zgrid/types/core";
import { BusAgentRemoteError, connectAgentBus, stopBusAgent } from "./agent-bus.ts";
import { BusAgentRunningError, serveBusAgent, type AgentBackend, type BusAgentOptions } from "./bus-agent.ts";

const identity = { twinId: 7, rpcUrl: "http://127.0.0.1:8545" };

class NodeSaysNo extends BaseError {
  override readonly code: string = "NOT_FOUND";
}

/** Stand-in for the twin's bus: answers `zos.deployment.get` from a table, records every call. */
function standInBus() {
  const calls: Array<{ to: number; route: string; payload: unknown; timeout?: number }> = [];
  let release: () => void = () => undefined;
  const backend: AgentBackend = {
    async request<T>(to: number, route: string, payload?: unknown, o: { timeout?: number } = {}): Promise<T> {
      calls.push({ to, route, payload, ...(o.timeout ? { timeout: o.timeout } : {}) });
      if (route === "zos.slow") await new Promise<void>((r) => (release = r));
      if ((payload as { contract_id?: number })?.contract_id === 404) throw new NodeSaysNo("no deployment 404", { hint: "list yours", details: { contract_id: 404 } });
      return { from: to, route, payload } as T;
    },
  };
  return { backend, calls, release: () => release() };
}

function scratch(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "zbus-agent-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function agentOn(t: { after(fn: () => Promise<void>): void }, socketPath: string, o: Partial<BusAgentOptions> = {}) {
  const bus = standInBus();
  let made = 0;
  const agent = await serveBusAgent({ socketPath, identity, bus: async () => { made++; return bus.backend; }, ...o });
  t.after(() => agent.close());
  return { agent, bus, made: () => made };
}

/** Raw lines to the socket; the answers (until `n` lines or close). */
async function raw(socketPath: string, text: string, n: number): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve) => {
    const s = connect(socketPath);
    let buf = "";
    const out: Array<Record<string, unknown>> = [];
    s.setEncoding("utf8");
    s.on("connect", () => s.write(text));
    s.on("data", (d: string) => {
      buf += d;
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        out.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
        buf = buf.slice(nl + 1);
      }
      if (out.length >= n) s.destroy();
    });
    s.on("close", () => resolve(out));
    s.on("error", () => undefined);
  });
}

test("forwards a node request as the bus would (route, payload, timeout) and a node's error with its code and hint; the bus is made once", async (t) => {
  const sock = join(scratch(t), "agent.sock");
  const { bus, made } = await agentOn(t, sock);
  assert.equal(statSync(sock).mode & 0o777, 0o600, "only the owner can connect");
  const client = await connectAgentBus(sock, identity);
  assert.ok(client);
  t.after(() => client.close());
  assert.deepEqual(await client.request(3, "zos.deployment.get", { contract_id: 12 }, { timeout: 8_000 }), { from: 3, route: "zos.deployment.get", payload: { contract_id: 12 } });
  const [a, b] = await Promise.all([client.request(4, "zos.deployment.list", {}), client.request(5, "zos.statistics.get")]);
  assert.deepEqual([a, b], [{ from: 4, route: "zos.deployment.list", payload: {} }, { from: 5, route: "zos.statistics.get" }]);
  await assert.rejects(client.request(3, "zos.deployment.get", { contract_id: 404 }), (e: unknown) => {
    assert.ok(e instanceof BusAgentRemoteError);
    assert.equal(e.code, "NOT_FOUND");
    assert.equal(e.shortMessage, "no deployment 404");
    assert.equal(e.hint, "list yours");
    assert.deepEqual(e.details, { contract_id: 404 });
    return true;
  });
  assert.deepEqual(bus.calls[0], { to: 3, route: "zos.deployment.get", payload: { contract_id: 12 }, timeout: 8_000 });
  assert.equal(made(), 1);
});

test("another identity is refused (the caller uses its own bus); nothing is forwarded before hello", async (t) => {
  const sock = join(scratch(t), "agent.sock");
  const { bus } = await agentOn(t, sock);
  assert.equal(await connectAgentBus(sock, { ...identity, twinId: 8 }), undefined);
  assert.equal(await connectAgentBus(sock, { ...identity, rpcUrl: "http://elsewhere:8545" }), undefined);
  const answers = await raw(sock, `${JSON.stringify({ id: 1, to: 3, route: "zos.deployment.get", payload: {} })}\n`, 1);
  assert.equal((answers[0]!.error as { message: string }).message, "say hello first");
  assert.equal(bus.calls.length, 0);
});

test("hostile lines: not JSON, a bad route or twin, too many in flight, an endless line; the agent keeps serving", async (t) => {
  const sock = join(scratch(t), "agent.sock");
  const { bus } = await agentOn(t, sock, { limits: { inFlightPerConnection: 2, lineBytes: 4096 } });
  const hello = `${JSON.stringify({ id: 0, op: "hello", ...identity })}\n`;
  const notJson = await raw(sock, `${hello}{not json\n`, 2);
  assert.match((notJson[1]!.error as { message: string }).message, /not a JSON object/);
  const bad = await raw(sock, hello + [
    { id: 1, to: 3, route: "../../etc", payload: {} },
    { id: 2, to: -1, route: "zos.deployment.get" },
    { id: "x", to: 3, route: "zos.deployment.get" },
  ].map((m) => `${JSON.stringify(m)}\n`).join(""), 4);
  assert.deepEqual(bad.slice(1).map((a) => (a.error as { code: string }).code), ["BUS_AGENT_BAD_REQUEST", "BUS_AGENT_BAD_REQUEST", "BUS_AGENT_BAD_REQUEST"]);
  // two slow requests hold the window; the third is refused at once
  const slow = raw(sock, hello + [1, 2, 3].map((id) => `${JSON.stringify({ id, to: 3, route: "zos.slow" })}\n`).join(""), 2);
  await new Promise((r) => setTimeout(r, 300));
  bus.release();
  bus.release();
  const busy = await slow;
  assert.equal((busy[1]!.error as { code: string }).code, "BUS_AGENT_BUSY");
  assert.equal(busy[1]!.id, 3);
  const long = await raw(sock, "x".repeat(10_000), 1);
  assert.match((long[0]!.error as { message: string }).message, /longer than 4096 bytes/);
  // still serving
  const client = await connectAgentBus(sock, identity);
  assert.ok(client);
  t.after(() => client.close());
  assert.deepEqual(await client.request(3, "zos.version.get"), { from: 3, route: "zos.version.get" });
});

test("connections are bounded: past the bound a client is told so and the others are served", async (t) => {
  const sock = join(scratch(t), "agent.sock");
  await agentOn(t, sock, { limits: { connections: 2 } });
  const a = await connectAgentBus(sock, identity);
  const b = await connectAgentBus(sock, identity);
  t.after(() => { a?.close(); b?.close(); });
  assert.ok(a && b);
  assert.equal(await connectAgentBus(sock, identity), undefined);
  assert.deepEqual(await a.request(3, "zos.version.get"), { from: 3, route: "zos.version.get" });
});

test("a killed agent's socket is replaced at the next start; a live agent is left alone; stop and idle end it and remove the socket", async (t) => {
  const dir = scratch(t);
  const sock = join(dir, "agent.sock");
  // an agent killed with SIGKILL: its socket file stays, nobody listens
  const child = spawn(process.execPath, ["-e", `require("node:net").createServer().listen(${JSON.stringify(sock)}, () => console.log("up"))`], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((r) => child.stdout.once("data", r));
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
  assert.ok(existsSync(sock), "the stale socket is there");
  const first = await serveBusAgent({ socketPath: sock, identity, bus: async () => standInBus().backend });
  await assert.rejects(serveBusAgent({ socketPath: sock, identity, bus: async () => standInBus().backend }), BusAgentRunningError);
  assert.ok(await connectAgentBus(sock, identity).then((c) => { c?.close(); return c !== undefined; }), "the first one still answers");
  assert.equal(await stopBusAgent(sock), true);
  await first.closed;
  assert.equal(existsSync(sock), false);
  assert.equal(await stopBusAgent(sock), false, "nothing to stop");
  // idle: no request for idleMs
  const idle = await serveBusAgent({ socketPath: sock, identity, bus: async () => standInBus().backend, idleMs: 300 });
  await idle.closed;
  assert.equal(existsSync(sock), false);
});
