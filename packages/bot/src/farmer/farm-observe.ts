/**
 * What a farmerbot pass sees and remembers: `observeFarm` reads the farm's nodes from the chain
 * (power target/state, rent, uptime proofs) and each awake node's own statistics and durations over
 * the bus; `rememberView` moves a node's memory and energy ledger along with what was seen;
 * `forecastUsedCru` extrapolates the farm's used vCPUs. Farmerbot (farmerbot.ts) runs them.
 *
 * @example
 * ```ts
 * for (const { view, durations } of await observeFarm(chain, nodes, farmId)) rememberView(state.state, view, now, durations);
 * forecastUsedCru([[0, 2], [300, 4], [600, 6]], policy);   // 6 + slope × lead, or undefined
 * ```
 */
import type { NodeView } from "./decide.ts";
import type { FarmerPolicy } from "./farmer-policy.ts";
import { adoptNodeDurations, advanceLedger, newLedger, type FarmerState, type NodeDurations } from "./farmer-state.ts";
import type { FarmerChain, FarmerNodes } from "./farmerbot.ts";

type Stats = Awaited<ReturnType<FarmerNodes["statistics"]>>;
type NodeRecord = Awaited<ReturnType<FarmerChain["getNode"]>>;

/** One pass's view of the farm's nodes (a node that does not answer has `deployments` undefined). */
export async function observeFarm(chain: FarmerChain, nodes: FarmerNodes, farmId: number): Promise<Array<{ view: NodeView; durations?: NodeDurations }>> {
  const count = await chain.nodeCount();
  const records = (await Promise.all(Array.from({ length: count }, (_, i) => chain.getNode(i + 1).catch(() => undefined))))
    .filter((n): n is NodeRecord => n !== undefined && n.id !== 0 && n.farmId === farmId);
  return Promise.all(records.map(async (n) => {
    const up = n.power.state === "up";
    const [rent, stats] = await Promise.all([
      chain.rentContractOf(n.id).catch(() => 1),
      up ? nodes.statistics(n.twinId).catch(() => undefined) : Promise.resolve<Stats>({ deployments: 0, usedCru: 0 }),
    ]);
    // Its own durations once it answered (one call at a time to a node: never two first dials at once).
    const durations = up && stats && nodes.durations ? await nodes.durations(n.twinId).catch(() => undefined) : undefined;
    const view: NodeView = {
      nodeId: n.id, twinId: n.twinId, mac: n.interfaces[0]?.mac ?? "", target: n.power.target, state: n.power.state, rented: rent !== 0,
      deployments: stats?.deployments, usedCru: stats?.usedCru ?? 0, totalCru: Number(n.resources.cru), lastUptimeReport: Number(n.lastUptimeReport),
      ...(n.power.changedAt !== undefined ? { changedAt: Number(n.power.changedAt) } : {}),
      ...(stats?.movable !== undefined ? { movable: stats.movable } : {}),
    };
    return durations ? { view, durations } : { view };
  }));
}

/**
 * A node's memory and ledger follow what was observed. A node that reports its own durations is
 * taken at its word; the bot's observation only fills the time since (a standby node cannot answer).
 */
export function rememberView(state: FarmerState, v: NodeView, now: number, durations?: NodeDurations): void {
  const e = (state.nodes[String(v.nodeId)] ??= { memory: {}, ledger: newLedger(now, v.state === "up" ? "on" : "off") });
  const m = e.memory;
  if (v.state === "up") {
    if (m.wakingSince !== undefined) {
      // Latency to the node's own "up" on chain when the chain has it (not to this pass).
      const upAt = v.changedAt !== undefined && v.changedAt >= m.wakingSince && v.changedAt <= now ? v.changedAt : now;
      state.wakeLatencies = [...state.wakeLatencies, upAt - m.wakingSince].slice(-1000);
      // upSince = when the wake began: any uptime proof from then on is the fresh one.
      m.upSince = Math.floor(m.wakingSince); m.upReason = m.wakeReason ?? "repair"; m.idleSince = now;
      delete m.wakingSince; delete m.lastWolAt; delete m.wakeReason; delete m.offPendingAt;
    }
    m.upSince ??= now;
    // Target up again (given up, or someone else raised it): no longer vacating.
    if (v.target === "up") delete m.vacatingSince;
    const busy = v.rented || v.deployments === undefined || v.deployments > 0;
    if (busy) delete m.idleSince;
    else m.idleSince ??= now;
  } else {
    delete m.idleSince; delete m.upSince; delete m.upReason; delete m.offPendingAt; delete m.vacatingSince;
  }
  advanceLedger(e.ledger, now, v.state === "up" || m.wakingSince !== undefined ? "on" : "off", v.usedCru);
  if (durations) adoptNodeDurations(e.ledger, durations);
}

/**
 * The farm's used vCPUs `forecastMinutes` ahead from its history ([unix s, used vCPUs] per pass):
 * the last pass's plus the least-squares slope of the passes in the window times the lead.
 * Undefined when the forecast is off, the history is shorter than half the window, or the load is
 * not rising (a falling trend never wakes a node).
 */
export function forecastUsedCru(h: ReadonlyArray<readonly [number, number]>, p: Pick<FarmerPolicy, "forecastMinutes" | "forecastWindowMinutes">): number | undefined {
  if (p.forecastMinutes <= 0 || h.length < 3) return undefined;
  const [now, used] = h[h.length - 1]!;
  if (now - h[0]![0] < (p.forecastWindowMinutes * 60) / 2) return undefined;
  const mt = h.reduce((s, [t]) => s + t, 0) / h.length;
  const mu = h.reduce((s, [, u]) => s + u, 0) / h.length;
  const den = h.reduce((s, [t]) => s + (t - mt) ** 2, 0);
  const slope = den > 0 ? h.reduce((s, [t, u]) => s + (t - mt) * (u - mu), 0) / den : 0;
  return slope > 0 ? used + slope * p.forecastMinutes * 60 : undefined;
}
