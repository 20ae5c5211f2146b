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
import { ZERO_CAPACITY, addCapacity, subtractCapacity, workloadCapacity, GiB, type Capacity, type Deployment, type Workload } from "@zgrid/types";

/** Workload states that hold capacity. */
const HOLDING = new Set(["init", "ok", "paused", "unchanged"]);

export function holdsCapacity(w: Workload): boolean {
  return w.result === undefined || HOLDING.has(w.result.state);
}

/** The system reserve of a node with `totalMemory` bytes of RAM. */
export function systemReserve(totalMemory: number): Capacity {
  return { ...ZERO_CAPACITY, mru: Math.max(Math.floor(totalMemory * 0.1), 2 * GiB) };
}

/** Capacity held by live workloads of the given deployments. */
export function usedCapacity(deployments: readonly Deployment[]): Capacity {
  return addCapacity(...deployments.flatMap((d) => d.workloads.filter(holdsCapacity).map(workloadCapacity)));
}

/**
 * vCPUs are time-shared, so a node may sell more of them than it has cores (`cpuOvercommit`,
 * default 4 per core); memory and disks are never overcommitted.
 */
export function freeCapacity(total: Capacity, deployments: readonly Deployment[], cpuOvercommit = 4): Capacity {
  const sellable = { ...total, cru: total.cru * cpuOvercommit };
  return subtractCapacity(subtractCapacity(sellable, systemReserve(total.mru)), usedCapacity(deployments));
}
