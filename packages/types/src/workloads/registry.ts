/**
 * The one registry of workload types, and the install order (REFERENCE.md): zmount, volume,
 * network, ip, zmachine, zlogs, then the rest; uninstall in reverse.
 *
 * @example
 * ```ts
 * workloadTypes["zmachine"].capacity(data);
 * sortForInstall(deployment.workloads).map((w) => w.name);
 * ```
 */
import { gatewayFqdnProxy } from "./gateway-fqdn-proxy.ts";
import { gatewayNameProxy } from "./gateway-name-proxy.ts";
import { ip } from "./ip.ts";
import { network } from "./network.ts";
import { volume } from "./volume.ts";
import type { WorkloadType } from "./workload-type.ts";
import { zdb } from "./zdb.ts";
import { zlogs } from "./zlogs.ts";
import { zmachine } from "./zmachine.ts";
import { zmount } from "./zmount.ts";

export const workloadTypes = {
  zmount,
  volume,
  network,
  ip,
  zmachine,
  zlogs,
  zdb,
  "gateway-name-proxy": gatewayNameProxy,
  "gateway-fqdn-proxy": gatewayFqdnProxy,
} as const;

export type WorkloadTypeName = keyof typeof workloadTypes;
export const WORKLOAD_TYPE_NAMES = Object.keys(workloadTypes) as WorkloadTypeName[];

/** Install order; types not listed come after, in registry order. */
export const INSTALL_ORDER: readonly WorkloadTypeName[] = ["zmount", "volume", "network", "ip", "zmachine", "zlogs", "zdb", "gateway-name-proxy", "gateway-fqdn-proxy"];

export function isWorkloadType(type: string): type is WorkloadTypeName {
  return Object.hasOwn(workloadTypes, type);
}

/** The definition of a type (typed loosely for generic code over any workload). */
export function workloadType(type: WorkloadTypeName): WorkloadType<unknown> {
  return workloadTypes[type] as unknown as WorkloadType<unknown>;
}

/** Workloads in install order (stable within a type). */
export function sortForInstall<W extends { type: string }>(workloads: readonly W[]): W[] {
  const rank = (t: string) => {
    const i = INSTALL_ORDER.indexOf(t as WorkloadTypeName);
    return i < 0 ? INSTALL_ORDER.length : i;
  };
  return [...workloads].sort((a, b) => rank(a.type) - rank(b.type));
}

/** Workloads in uninstall order: the reverse of install order. */
export function sortForUninstall<W extends { type: string }>(workloads: readonly W[]): W[] {
  return sortForInstall(workloads).reverse();
}
