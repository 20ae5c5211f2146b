/**
 * Capacity of a whole deployment: the sum of its workloads' capacities.
 *
 * @example
 * ```ts
 * deploymentCapacity(d); // { cru: 2, mru: 2 GiB, sru: 10 GiB, hru: 0, ipv4u: 1 }
 * ```
 */
import type { Deployment, Workload } from "../deployment/deployment.ts";
import { workloadType } from "../workloads/registry.ts";
import { addCapacity, type Capacity } from "./capacity.ts";

export function workloadCapacity(w: Workload): Capacity {
  return workloadType(w.type).capacity(w.data);
}

export function deploymentCapacity(d: Pick<Deployment, "workloads">): Capacity {
  return addCapacity(...d.workloads.map(workloadCapacity));
}
