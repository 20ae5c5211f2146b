/**
 * Update rules (REFERENCE.md): version = old + 1; twin and contract unchanged; a workload keeps its
 * type; network, zmount, volume, zdb and (beyond the reference) zmachine and gateways change in
 * place (the node restarts the VM with its new data, keeping its disks; a gateway's route is
 * swapped); a changed workload carries the new version; omitted workloads are removed.
 *
 * @example
 * ```ts
 * const plan = planUpdate(current, next); // { added: [...], updated: [...], removed: [...], unchanged: [...] }
 * ```
 */
import { bytesToHex } from "@noble/hashes/utils.js";
import { ValidationError, type ValidationIssue } from "../errors/validation-error.ts";
import { workloadType } from "../workloads/registry.ts";
import type { Deployment, Workload } from "./deployment.ts";
import { workloadContent } from "./hash-deployment.ts";

export interface UpdatePlan {
  added: Workload[];
  updated: Workload[];
  removed: Workload[];
  unchanged: Workload[];
}

/** Checks `next` against `current`; throws ValidationError listing every broken rule. */
export function planUpdate(current: Deployment, next: Deployment): UpdatePlan {
  const issues: ValidationIssue[] = [];
  if (next.version !== current.version + 1) issues.push({ field: "version", value: next.version, expected: `${current.version + 1} (current version + 1)` });
  if (next.twin_id !== current.twin_id) issues.push({ field: "twin_id", value: next.twin_id, expected: `unchanged (${current.twin_id})` });
  if (next.contract_id !== current.contract_id) issues.push({ field: "contract_id", value: next.contract_id, expected: `unchanged (${current.contract_id})` });
  const old = new Map(current.workloads.map((w) => [w.name, w]));
  const plan: UpdatePlan = { added: [], updated: [], removed: [], unchanged: [] };
  for (const w of next.workloads) {
    const before = old.get(w.name);
    old.delete(w.name);
    if (!before) {
      if (w.version !== next.version) issues.push({ workload: w.name, type: w.type, field: "version", value: w.version, expected: `${next.version} for a new workload` });
      plan.added.push(w);
      continue;
    }
    if (before.type !== w.type) {
      issues.push({ workload: w.name, type: w.type, field: "type", value: w.type, expected: `unchanged (${before.type}); delete and add under another name` });
      continue;
    }
    const changed = bytesToHex(workloadContent(before)) !== bytesToHex(workloadContent(w));
    if (!changed) {
      if (w.version !== before.version) issues.push({ workload: w.name, type: w.type, field: "version", value: w.version, expected: `unchanged (${before.version}) for an unchanged workload` });
      plan.unchanged.push(w);
    } else if (!workloadType(w.type).updatable) {
      issues.push({ workload: w.name, type: w.type, field: "data", value: "(changed)", expected: `unchanged: a ${w.type} cannot be updated in place (only network, zmount, volume, zdb, zmachine, gateway-name-proxy, gateway-fqdn-proxy)` });
    } else {
      if (w.version !== next.version) issues.push({ workload: w.name, type: w.type, field: "version", value: w.version, expected: `${next.version} for a changed workload` });
      plan.updated.push(w);
    }
  }
  plan.removed.push(...old.values());
  if (issues.length > 0) throw new ValidationError(issues);
  return plan;
}
