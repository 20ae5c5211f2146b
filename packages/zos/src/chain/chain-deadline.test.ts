// A chain RPC that accepts connections and never answers: every call of the node's chain client
// fails with CHAIN_TIMEOUT within its bound instead of holding its caller.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { describe, test } from "node:test";
import { chainTwinDirectory, createGridClient } from "@zgrid/chain/client";
import { ChainTimeoutError, withChainDeadline } from "./chain-deadline.ts";
import { ChainSync, type WatchableChain } from "./chain-sync.ts";
import { openDeploymentStore } from "../engine/deployment-store.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@zgrid/log";

const ZERO = "0x0000000000000000000000000000000000000001" as const;

/** An HTTP server that reads requests and never answers; counts what it received. */
async function silentRpc(t: { after(fn: () => Promise<void> | void): void }): Promise<{ url: string; requests: () => number }> {
  const sockets = new Set<Socket>();
  let requests = 0;
  const server: Server = createServer(() => {
    requests++; // never answered
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests };
}

const isTimeout = (call: string, ms: number) => (e: unknown): boolean => {
  assert.ok(e instanceof ChainTimeoutError, `not a ChainTimeoutError: ${String(e)}`);
  assert.equal(e.code, "CHAIN_TIMEOUT");
  assert.equal(e.details.call, call);
  assert.equal(e.details.timeoutMs, ms);
  assert.match(e.message, new RegExp(`chain call ${call.replace(".", "\\.")} did not answer within ${ms} ms`));
  assert.match(e.message, /hint: is the chain RPC at http:\/\/127\.0\.0\.1:\d+ reachable/);
  return true;
};

describe("chain calls of the node have a deadline", () => {
  test("reads, writes, the public client and the bus's twin lookups fail with CHAIN_TIMEOUT against an RPC that never answers", async (t) => {
    const rpc = await silentRpc(t);
    const raw = createGridClient({ rpcUrl: rpc.url, addresses: { token: ZERO, registry: ZERO, contracts: ZERO, governance: ZERO }, account: `0x${"11".repeat(32)}` });
    const chain = withChainDeadline(raw, { readMs: 300, writeMs: 700, rpcUrl: rpc.url });

    await assert.rejects(chain.getContract(1), isTimeout("getContract", 300));
    await assert.rejects(chain.getTwin(7), isTimeout("getTwin", 300));
    await assert.rejects(chain.listNodeContracts(1), isTimeout("listNodeContracts", 300));
    await assert.rejects(chain.getBlockNumber(), isTimeout("getBlockNumber", 300));
    await assert.rejects(chain.publicClient.getBalance({ address: ZERO }), isTimeout("publicClient.getBalance", 300));
    await assert.rejects(chain.reportContractResources(1, { cru: 1n, mru: 1n, sru: 1n, hru: 1n }), isTimeout("reportContractResources", 700));
    await assert.rejects(chain.reportUptime(10n), isTimeout("reportUptime", 700));
    // The bus resolves request sources through the same client: an unknown twin, not a hang.
    assert.equal(await chainTwinDirectory(chain).getTwin(7), undefined);
    assert.ok(rpc.requests() >= 8, `the RPC saw ${rpc.requests()} requests: the calls did reach it`);
    // What is not a promise passes through unchanged.
    assert.equal(chain.account, raw.account);
    assert.equal(chain.addresses, raw.addresses);
  });

  test("the chain sync stops in bounded time while its event poll hangs on the RPC", async (t) => {
    const rpc = await silentRpc(t);
    const dir = mkdtempSync(join(tmpdir(), "zgrid-chain-deadline-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const chain = withChainDeadline(createGridClient({ rpcUrl: rpc.url, addresses: { token: ZERO, registry: ZERO, contracts: ZERO, governance: ZERO } }), { readMs: 300, rpcUrl: rpc.url });
    const store = openDeploymentStore(join(dir, "db.sqlite"));
    t.after(() => store.close());
    let passes = 0;
    const engine = { reconcile: () => Promise.resolve(), reconcileAll: () => { passes++; return Promise.resolve(); }, abort: () => undefined };
    // No cursor: the start reads the block number — bounded, a clear error.
    const sync = new ChainSync({ nodeId: 1, chain: chain as unknown as WatchableChain, engine, store, cursorFile: join(dir, "cursor"), log: createLogger("test"), stopTimeoutMs: 500 });
    await assert.rejects(sync.start(), isTimeout("getBlockNumber", 300));
    // With a cursor the watcher starts and hangs in its poll; stop() still returns.
    writeFileSync(join(dir, "cursor"), "5\n");
    const again = new ChainSync({ nodeId: 1, chain: chain as unknown as WatchableChain, engine, store, cursorFile: join(dir, "cursor"), log: createLogger("test"), stopTimeoutMs: 500 });
    await again.start();
    assert.equal(passes, 1, "the start-up pass ran");
    await new Promise((r) => setTimeout(r, 100));
    const stopped = await Promise.race([again.stop().then(() => "stopped"), new Promise((r) => setTimeout(() => r("hung"), 5_000))]);
    assert.equal(stopped, "stopped");
  });
});
