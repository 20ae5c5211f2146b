/**
 * Rollout waves, derived by every node on its own from the release and the node list on chain (no
 * coordinator): each node's rank is keccak-256(release manifest hash || node id); the best-ranked
 * node of each farm is its farm's canary (wave 0), then the next 10% of all nodes (wave 1), then
 * the rest (wave 2). A wave starts only when every node of the earlier waves that is up reports on
 * chain that it runs the release, and stops for good when one of them reports it failed.
 *
 * @example
 * ```ts
 * const plan = planWaves(release.manifestHash, [{ nodeId: 1, farmId: 1 }, { nodeId: 2, farmId: 1 }, { nodeId: 3, farmId: 2 }]);
 * plan.waveOf(2);                                   // 0, 1 or 2
 * waveGate(plan, plan.waveOf(2), "2.0.0", reports); // { open: false, waitingFor: [1], failed: [] }
 * ```
 */
import { keccak256, type Hex } from "viem";

export interface WaveNode { nodeId: number; farmId: number }

export interface WavePlan {
  /** Node ids per wave, in rollout order. */
  waves: number[][];
  waveOf(nodeId: number): number;
}

/** Share of all nodes in wave 1 (after the canaries). */
export const SECOND_WAVE_FRACTION = 0.1;

/** A node's rank for a release (lower goes first). */
export function waveRank(releaseHash: Hex, nodeId: number): string {
  return keccak256(`${releaseHash}${nodeId.toString(16).padStart(8, "0")}` as Hex);
}

export function planWaves(releaseHash: Hex, nodes: WaveNode[], fraction: number = SECOND_WAVE_FRACTION): WavePlan {
  const ranked = [...nodes].map((n) => ({ ...n, rank: waveRank(releaseHash, n.nodeId) })).sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : a.nodeId - b.nodeId));
  const canaries = new Map<number, number>();
  for (const n of ranked) if (!canaries.has(n.farmId)) canaries.set(n.farmId, n.nodeId);
  const wave0 = ranked.filter((n) => canaries.get(n.farmId) === n.nodeId).map((n) => n.nodeId);
  const rest = ranked.filter((n) => canaries.get(n.farmId) !== n.nodeId).map((n) => n.nodeId);
  const second = Math.min(rest.length, Math.max(1, Math.ceil(nodes.length * fraction)));
  const waves = [wave0, rest.slice(0, second), rest.slice(second)].filter((w) => w.length > 0);
  const index = new Map<number, number>();
  waves.forEach((w, i) => w.forEach((id) => index.set(id, i)));
  return {
    waves,
    waveOf: (nodeId) => {
      const w = index.get(nodeId);
      if (w === undefined) throw new Error(`node ${nodeId} is not in the rollout plan`);
      return w;
    },
  };
}

export interface NodeReport { running: string; failed: string; up: boolean }

export interface WaveGate {
  open: boolean;
  /** Up nodes of earlier waves not yet running the release. */
  waitingFor: number[];
  /** Nodes of earlier waves whose health gate failed on the release. */
  failed: number[];
}

/** Whether `wave` may start upgrading to `version`, from the nodes' reports on chain. */
export function waveGate(plan: WavePlan, wave: number, version: string, reports: Map<number, NodeReport>): WaveGate {
  const earlier = plan.waves.slice(0, wave).flat();
  const failed = earlier.filter((id) => reports.get(id)?.failed === version);
  const waitingFor = earlier.filter((id) => {
    const r = reports.get(id);
    return r !== undefined && r.up && r.running !== version && r.failed !== version;
  });
  return { open: failed.length === 0 && waitingFor.length === 0, waitingFor, failed };
}
