/**
 * What the node can still give: total measured capacity, minus the system reserve (REFERENCE.md:
 * max(10% RAM, 2 GiB)), minus what live workloads hold. Computed from the store on each call, so
 * it can never drift from the deployments the node actually has.
 *
 * @example
 * ```ts
 * const free = freeCapacity(total, store.list()); // { cru, mru, sru, hru, ipv4u }
 * ```
 */
import { ZERO_CAPACITY, addCapacity, subtractCapacity, workloadCapacity, GiB, MiB, type Capacity, type Deployment, type Workload } from "@zgrid/types";

/**
 * Memory a network costs the farmer beyond its workload capacity: its wireguard-go process
 * (measured ~5 MiB RSS each; 62 of them held +306 MiB), rounded up.
 */
export const WIREGUARD_GO_MRU = 8 * MiB;

/** What a workload costs the node: its capacity, plus the processes it makes the node run. */
export function nodeCost(w: Workload): Capacity {
  const c = workloadCapacity(w);
  return w.type === "network" ? { ...c, mru: c.mru + WIREGUARD_GO_MRU } : c;
}

/** Workload states that hold capacity. */
const HOLDING = new Set(["init", "ok", "paused", "unchanged"]);

export function holdsCapacity(w: Workload): boolean {
  return w.result === undefined || HOLDING.has(w.result.state);
}

/** The system reserve of a node with `totalMemory` bytes of RAM. */
export function systemReserve(totalMemory: number): Capacity {
  return { ...ZERO_CAPACITY, mru: Math.max(Math.floor(totalMemory * 0.1), 2 * GiB) };
}

/** Capacity held by live workloads of the given deployments (billed: what is reported to the chain). */
export function usedCapacity(deployments: readonly Deployment[]): Capacity {
  return addCapacity(...deployments.flatMap((d) => d.workloads.filter(holdsCapacity).map(nodeCost)));
}

/**
 * vCPUs are time-shared, so a node may sell more of them than it has cores (`cpuOvercommit`,
 * default 4 per core); memory and disks are never overcommitted.
 */
export function freeCapacity(total: Capacity, deployments: readonly Deployment[], cpuOvercommit = 4): Capacity {
  const sellable = { ...total, cru: total.cru * cpuOvercommit };
  return subtractCapacity(subtractCapacity(sellable, systemReserve(total.mru)), usedCapacity(deployments));
}
