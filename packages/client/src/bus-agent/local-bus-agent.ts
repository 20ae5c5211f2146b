/**
 * The bus agent of a local grid's data dir (`<dataDir>/bus-agent.sock`): the twin of the data
 * dir's `grid.json`, its bus made on the first request. It stops when idle, when told to, and when
 * `grid.json` goes away or names another grid or key (`zgrid down`, a new `zgrid up`).
 * `zgrid` starts it on demand (packages/cli/bin/zgrid-bus-agent.ts); nothing else needs to.
 *
 * @example
 * ```ts
 * await runLocalBusAgent("/home/u/.zgrid");   // serves until idle (10 min) or stopped
 * ```
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chainTwinDirectory, createChainReader } from "@zgrid/chain/reader";
import { twinKeyFromPrivateKey } from "@zgrid/types/core";
import { localGridConnection, localGridInfoPath } from "../connect/grid-connection.ts";
import { serveBusAgent, type RunningBusAgent } from "./bus-agent.ts";

/** Where a data dir's agent listens. */
export function busAgentSocket(dataDir: string): string {
  return join(dataDir, "bus-agent.sock");
}

/** Starts the data dir's agent; resolves once it listens (BusAgentRunningError when one already does). */
export async function runLocalBusAgent(dataDir: string, o: { idleMs?: number; checkMs?: number } = {}): Promise<RunningBusAgent> {
  const conn = localGridConnection(dataDir);
  if (!conn.privateKey) throw new Error(`${localGridInfoPath(dataDir)} holds no private key`);
  const key = twinKeyFromPrivateKey(conn.privateKey);
  const chain = createChainReader({ rpcUrl: conn.rpcUrl, addresses: conn.addresses });
  const twinId = await chain.twinIdByAccount(key.address);
  const agent = await serveBusAgent({
    socketPath: busAgentSocket(dataDir),
    identity: { twinId, rpcUrl: conn.rpcUrl },
    ...(o.idleMs !== undefined ? { idleMs: o.idleMs } : {}),
    bus: async () => {
      const { createBus } = await import("@zgrid/bus");
      // it only asks: listens nowhere, holds no relay reservation
      return createBus({ key, twinId, directory: chainTwinDirectory(chain), listen: [], relay: { reserveOn: [] } });
    },
  });
  const sameGrid = (): boolean => {
    try {
      const g = JSON.parse(readFileSync(localGridInfoPath(dataDir), "utf8")) as { rpcUrl?: string; user?: { privateKey?: string } };
      return g.rpcUrl === conn.rpcUrl && g.user?.privateKey === conn.privateKey;
    } catch {
      return false;
    }
  };
  const watch = setInterval(() => { if (!sameGrid()) void agent.close(); }, o.checkMs ?? 5_000);
  watch.unref();
  void agent.closed.then(() => clearInterval(watch));
  return agent;
}
