/**
 * @zgrid/client/bus-agent — a per-data-dir process that keeps the twin's bus open for short
 * commands (ssh-agent style; see bus-agent.ts), its client, and the local grid's agent.
 *
 * @example
 * ```ts
 * const bus = await connectAgentBus(busAgentSocket(dataDir), { twinId, rpcUrl });
 * const reader = await openGridReader(conn, bus ? { bus: async () => bus } : {});
 * ```
 */
export { BUS_AGENT_LIMITS, BusAgentRunningError, serveBusAgent, type AgentBackend, type BusAgentLimits, type BusAgentOptions, type RunningBusAgent } from "./bus-agent.ts";
export { BusAgentRemoteError, connectAgentBus, stopBusAgent, type AgentBus } from "./agent-bus.ts";
export { busAgentSocket, runLocalBusAgent } from "./local-bus-agent.ts";
