/**
 * `zgrid farm status`: the farm's nodes with their power target/state from the chain, and energy
 * from the farmerbot's ledgers (its state file): kWh used, kWh an always-on farm would have used,
 * saved, ratio, per day; wake latency p50/p99.
 *
 * @example
 * ```ts
 * const s = await farmStatus({ chain, farmId: 1, stateFile: "/var/lib/farmerbot/state.json", energy: policy.energy });
 * s.nodes[0]; // { nodeId: 3, power: "standby", target: "down", state: "down", onHours, offHours, wakes }
 * ```
 */
import { existsSync } from "node:fs";
import { energyReport, type EnergyModel, type EnergyReport } from "./energy-model.ts";
import { openFarmerState } from "./farmer-state.ts";
import type { FarmerChain } from "./farmerbot.ts";

export interface FarmStatusNode {
  nodeId: number;
  power: "up" | "standby" | "waking";
  target: "up" | "down";
  state: "up" | "down";
  lastUptimeReport: number;
  onHours: number;
  offHours: number;
  wakes: number;
  /** The farmerbot is vacating it (consolidation: its movable deployments are being re-placed). */
  vacating: boolean;
}

export interface FarmStatus {
  farmId: number;
  nodes: FarmStatusNode[];
  /** Undefined when no farmerbot state file is there (the bot never ran here). */
  energy: EnergyReport | undefined;
  wakeLatency: { count: number; p50: number; p99: number };
}

export async function farmStatus(o: { chain: Pick<FarmerChain, "nodeCount" | "getNode">; farmId: number; stateFile?: string; energy: EnergyModel }): Promise<FarmStatus> {
  const count = await o.chain.nodeCount();
  const records = (await Promise.all(Array.from({ length: count }, (_, i) => o.chain.getNode(i + 1).catch(() => undefined))))
    .filter((n) => n && n.id !== 0 && n.farmId === o.farmId) as Awaited<ReturnType<FarmerChain["getNode"]>>[];
  const state = o.stateFile && existsSync(o.stateFile) ? openFarmerState(o.stateFile).state : undefined;
  const nodes = records.map((n): FarmStatusNode => {
    const e = state?.nodes[String(n.id)];
    const power = n.power.state === "up" ? "up" : e?.memory.wakingSince !== undefined ? "waking" : "standby";
    return { nodeId: n.id, power, target: n.power.target, state: n.power.state, lastUptimeReport: Number(n.lastUptimeReport),
      onHours: (e?.ledger.onSeconds ?? 0) / 3600, offHours: (e?.ledger.offSeconds ?? 0) / 3600, wakes: e?.ledger.wakes ?? 0,
      vacating: n.power.state === "up" && n.power.target === "down" && e?.memory.vacatingSince !== undefined };
  });
  const ledgers = records.flatMap((n) => (state?.nodes[String(n.id)] ? [state.nodes[String(n.id)]!.ledger] : []));
  const lat = [...(state?.wakeLatencies ?? [])].sort((a, b) => a - b);
  const q = (f: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(f * lat.length))]! : 0);
  return { farmId: o.farmId, nodes, energy: state ? energyReport(o.energy, ledgers) : undefined, wakeLatency: { count: lat.length, p50: q(0.5), p99: q(0.99) } };
}
