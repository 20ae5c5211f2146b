/**
 * Where a workload goes among the nodes that fit it: the node finder's placement policy.
 *
 * - `pack` (the default): best fit, the fullest node that still fits first (least free memory,
 *   then least free vCPUs, SSD, HDD). Workloads gather on few nodes, so the others stay empty and
 *   their farm's bot can power them off (a green farm: issue 20), and a big VM later still finds an
 *   empty node. The cost: a node's failure or a noisy neighbour touches more of your workloads,
 *   and the nodes you land on are the busier ones.
 * - `spread`: the emptiest node first (most free memory, then most free vCPUs). Your workloads
 *   land apart and get the quietest nodes, at the price of keeping more nodes awake.
 *
 * Standby nodes (capacity a farm's bot can wake) come after every awake node that fits, whatever
 * the policy: a wake costs the user minutes and the farm a node's idle power.
 *
 * @example
 * ```ts
 * const [first] = placementOrder(nodesThatFit, "pack"); // the fullest that fits
 * await grid.vms.deploy({ name: "web", flist, placement: "spread" }); // the emptiest instead
 * ```
 */
import { z } from "zod";

export const PLACEMENTS = ["pack", "spread"] as const;
export type Placement = (typeof PLACEMENTS)[number];
export const placementSchema = z.enum(PLACEMENTS);
export const DEFAULT_PLACEMENT: Placement = "pack";

/** What placement looks at: a node's id, its power and what it can still give. */
export interface PlacementCandidate {
  nodeId: number;
  standby: boolean;
  free: { cru: number; mru: number; sru: number; hru: number };
}

const KEYS = ["mru", "cru", "sru", "hru"] as const;

/**
 * The candidates in the order the policy prefers them (a new array; ties by node id, so the
 * order is the same on every client). Filtering for fit is the caller's: this only ranks.
 */
export function placementOrder<T extends PlacementCandidate>(candidates: readonly T[], placement: Placement = DEFAULT_PLACEMENT): T[] {
  const sign = placement === "pack" ? 1 : -1;
  return [...candidates].sort((a, b) => {
    if (a.standby !== b.standby) return a.standby ? 1 : -1;
    for (const k of KEYS) if (a.free[k] !== b.free[k]) return sign * (a.free[k] - b.free[k]);
    return a.nodeId - b.nodeId;
  });
}
