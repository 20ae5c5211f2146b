/**
 * Per-twin quotas of the node: how many networks (each a namespace, bridge and wireguard-go
 * process), gateways, zmachines (QEMU + mount process) and zlogs streams one twin may hold here,
 * over all its live deployments. Checked before a deployment is accepted; a refusal names the
 * kind, the limit and what the twin holds.
 *
 * @example
 * ```ts
 * checkTwinQuota(DEFAULT_TWIN_QUOTAS, otherDeploymentsOfTwin, next); // throws TwinQuotaError
 * ```
 */
import type { Deployment, WorkloadTypeName } from "@zgrid/types";
import { holdsCapacity } from "./capacity-ledger.ts";
import { TwinQuotaError } from "./engine-errors.ts";

export interface TwinQuotas {
  networks: number;
  gateways: number;
  zmachines: number;
  zlogs: number;
}

export const DEFAULT_TWIN_QUOTAS: TwinQuotas = { networks: 16, gateways: 32, zmachines: 64, zlogs: 64 };

const KIND: Partial<Record<WorkloadTypeName, keyof TwinQuotas>> = {
  network: "networks", "gateway-name-proxy": "gateways", "gateway-fqdn-proxy": "gateways", zmachine: "zmachines", zlogs: "zlogs",
};

/** Throws TwinQuotaError when `next` with the twin's `others` (live deployments) exceeds a quota. */
export function checkTwinQuota(quotas: TwinQuotas, others: readonly Deployment[], next: Deployment): void {
  const count: Record<keyof TwinQuotas, number> = { networks: 0, gateways: 0, zmachines: 0, zlogs: 0 };
  const add = (type: WorkloadTypeName) => {
    const k = KIND[type];
    if (k) count[k]++;
  };
  for (const d of others) for (const w of d.workloads) if (holdsCapacity(w)) add(w.type);
  for (const w of next.workloads) add(w.type);
  for (const k of Object.keys(count) as Array<keyof TwinQuotas>) {
    if (count[k] > quotas[k]) {
      throw new TwinQuotaError(`twin ${next.twin_id} would hold ${count[k]} ${k} on this node; one twin may hold ${quotas[k]}`, {
        details: { twin_id: next.twin_id, kind: k, limit: quotas[k], wanted: count[k] },
        hint: `remove some ${k} or spread them over other nodes`,
      });
    }
  }
}
