/**
 * Read commands on the local grid ask nodes through the data dir's bus agent
 * (`@zgrid/client/bus-agent`): a process that keeps the twin's bus open, so a command neither
 * loads libp2p nor dials (issue 14). The first command that needs a node and finds no agent starts
 * one (detached, `bin/zgrid-bus-agent.ts`; it exits when idle) and asks through its own bus
 * meanwhile. `ZGRID_BUS_AGENT=0` turns it off (every command then uses its own bus).
 *
 * @example
 * ```ts
 * const via = agentBusFor(opts.dataDir, conn.rpcUrl);
 * const reader = await openGridReader(conn, { bus: via.bus });
 * try { … } finally { via.close(); await reader.close(); }
 * ```
 */
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { GridReaderOptions } from "@zgrid/client/read";
import type { AgentBus } from "@zgrid/client/bus-agent";

const AGENT_BIN = fileURLToPath(new URL("../bin/zgrid-bus-agent.ts", import.meta.url));

export function busAgentEnabled(): boolean {
  return process.env.ZGRID_BUS_AGENT !== "0";
}

/** The reader's `bus` option for a local grid data dir, and what to close afterwards. */
export function agentBusFor(dataDir: string, rpcUrl: string): { bus: NonNullable<GridReaderOptions["bus"]>; close(): void } {
  let agent: AgentBus | undefined;
  return {
    async bus(twinId, own) {
      const { busAgentSocket, connectAgentBus } = await import("@zgrid/client/bus-agent");
      agent = await connectAgentBus(busAgentSocket(dataDir), { twinId, rpcUrl });
      if (agent) return agent;
      startAgent(dataDir);
      return own();
    },
    close() {
      agent?.close();
    },
  };
}

/** Starts the data dir's agent in the background (a second one started at once sees the first and exits). */
function startAgent(dataDir: string): void {
  let log: number | "ignore" = "ignore";
  try {
    log = openSync(join(dataDir, "bus-agent.log"), "a", 0o600);
  } catch {
    // no log then
  }
  try {
    const child = spawn(process.execPath, [...process.execArgv, AGENT_BIN, dataDir], { detached: true, stdio: ["ignore", log, log], env: process.env });
    child.on("error", () => undefined);
    child.unref();
  } finally {
    if (typeof log === "number") closeSync(log);
  }
}
