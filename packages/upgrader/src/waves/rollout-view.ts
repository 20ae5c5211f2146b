/**
 * What a node reads from chain to decide its turn: every registered node (id, farm, up or not)
 * and each node's version report. A node is "up" when its power target and state are up and it
 * reported uptime within `staleSeconds` of chain time (a dead node does not hold the rollout).
 *
 * @example
 * ```ts
 * const view = await readRolloutView(client, { staleSeconds: 3600n });
 * const plan = planWaves(release.manifestHash, view.nodes);
 * waveGate(plan, plan.waveOf(myNodeId), release.version, view.reports);
 * ```
 */
import type { GridClient } from "@zgrid/chain";
import type { NodeReport, WaveNode } from "./wave-plan.ts";

export interface RolloutView { nodes: WaveNode[]; reports: Map<number, NodeReport> }

/** Nodes read per view (the registry's ids are dense; deleted ones are skipped). */
export const MAX_ROLLOUT_NODES = 10_000;

export async function readRolloutView(client: Pick<GridClient, "nodeCount" | "getNode" | "getNodeVersion" | "publicClient">, o: { staleSeconds: bigint }): Promise<RolloutView> {
  const count = Math.min(await client.nodeCount(), MAX_ROLLOUT_NODES);
  const now = (await client.publicClient.getBlock({ blockTag: "latest" })).timestamp;
  const nodes: WaveNode[] = [];
  const reports = new Map<number, NodeReport>();
  const ids = Array.from({ length: count }, (_, i) => i + 1);
  for (let i = 0; i < ids.length; i += 32) {
    await Promise.all(ids.slice(i, i + 32).map(async (nodeId) => {
      let n;
      try {
        n = await client.getNode(nodeId);
      } catch {
        return; // deleted
      }
      const v = await client.getNodeVersion(nodeId);
      nodes.push({ nodeId, farmId: n.farmId });
      const up = n.power.target === "up" && n.power.state === "up" && n.lastUptimeReport + o.staleSeconds >= now;
      reports.set(nodeId, { running: v.running, failed: v.failed, up });
    }));
  }
  return { nodes, reports };
}
