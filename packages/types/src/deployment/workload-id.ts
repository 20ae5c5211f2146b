/**
 * Workload ids on a node: `<twin>-<contract>-<name>` (REFERENCE.md). The node names VMs, disks
 * and namespaces after them; the client and the node share these two functions instead of
 * building or picking apart the text themselves.
 *
 * @example
 * ```ts
 * formatWorkloadId({ twinId: 7, contractId: 12, name: "web" }); // "7-12-web"
 * parseWorkloadId("7-12-web");  // { twinId: 7, contractId: 12, name: "web" }
 * parseWorkloadId("nonsense");  // undefined
 * ```
 */
import { WORKLOAD_NAME } from "../workloads/common.ts";

export interface WorkloadRef {
  twinId: number;
  contractId: number;
  name: string;
}

/** The id of workload `name` of contract `contractId` owned by `twinId`. */
export function formatWorkloadId(ref: WorkloadRef): string {
  return `${ref.twinId}-${ref.contractId}-${ref.name}`;
}

/** Same as formatWorkloadId, positional (kept for the engine's call sites). */
export function workloadId(twinId: number, contractId: number, name: string): string {
  return formatWorkloadId({ twinId, contractId, name });
}

function positiveInt(text: string): number | undefined {
  if (text === "" || text.length > 16 || ![...text].every((c) => c >= "0" && c <= "9")) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The parts of a workload id, or undefined when `id` is not one. */
export function parseWorkloadId(id: string): WorkloadRef | undefined {
  const a = id.indexOf("-");
  const b = a < 0 ? -1 : id.indexOf("-", a + 1);
  if (b < 0) return undefined;
  const twinId = positiveInt(id.slice(0, a));
  const contractId = positiveInt(id.slice(a + 1, b));
  const name = id.slice(b + 1);
  if (twinId === undefined || contractId === undefined || !WORKLOAD_NAME.test(name)) return undefined;
  return { twinId, contractId, name };
}
