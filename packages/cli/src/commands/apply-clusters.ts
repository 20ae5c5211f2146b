/**
 * A spec's `clusters:` (Kubernetes, @zgrid/k8s cluster-spec.ts) beside its VMs: `zgrid apply -f`
 * plans, shows and applies them after the VMs; `zgrid delete -f` removes them. @zgrid/k8s is loaded
 * only when the file has the section or the project already owns a cluster (its contracts say so:
 * chain reads only), so an apply without clusters pays nothing for them. Removing the section
 * removes the project's clusters, as removing a VM from the spec removes the VM (data loss: refused
 * without --allow-data-loss).
 *
 * @example
 * ```ts
 * const extensions = await clusterExtension(text);                 // { clusters: schema } or undefined
 * const steps = await planSpecClusters(grid, spec);                 // undefined: nothing to do
 * if (steps) await applySpecClusters(opts, grid, spec, steps, { progress });
 * ```
 */
import type { Grid, Spec, SpecOptions } from "@zgrid/client";
import type { ClusterSpec, ClusterStep } from "@zgrid/k8s";
import type { GlobalOptions } from "../context.ts";
import { flistOf } from "./k8s-commands.ts";

const CLUSTERS_KEY = /^clusters\s*:/m;
const k8s = () => import("@zgrid/k8s");

/** The spec extension for `clusters:` when the file has that section. */
export async function clusterExtension(text: string): Promise<SpecOptions["extensions"]> {
  return CLUSTERS_KEY.test(text) ? { clusters: (await k8s()).clusterSpecSchema } : undefined;
}

/** The project owns a cluster: a contract carries its marker (chain reads, no node asked). */
async function ownsClusters(grid: Grid, project: string): Promise<boolean> {
  return (await grid.contracts.list()).some((c) => c.metadata?.spec?.startsWith(`cluster:${project}:`) === true);
}

/** The clusters' plan, or undefined when the spec has none and the project owns none. */
export async function planSpecClusters(grid: Grid, spec: Spec): Promise<ClusterStep[] | undefined> {
  const desired = spec.extensions?.clusters as ClusterSpec[] | undefined;
  if (!desired && !(await ownsClusters(grid, spec.project))) return undefined;
  const { K8sService, planClusters } = await k8s();
  return planClusters(spec.project, desired ?? [], await new K8sService(grid).list());
}

/** Plan lines in the style of the VMs' plan. */
export function showClusterPlan(steps: readonly ClusterStep[]): string {
  const sign = { create: "+", scale: "~", replace: "!", delete: "-", keep: "=" } as const;
  return steps.map((s) => `  ${sign[s.action]} ${s.action} cluster ${s.name}${s.workers ? ` (workers ${s.workers.from} → ${s.workers.to})` : ""}${s.reason ? ` (${s.reason})` : ""}` +
    (s.dataLoss?.length ? `\n      DATA LOSS: ${s.dataLoss.join(", ")}` : "")).join("\n");
}

/** Refuses (DataLossError, nothing changed) a cluster plan that loses data, unless allowed: call before anything is applied. */
export async function checkSpecClusters(steps: readonly ClusterStep[] | undefined, allowDataLoss: boolean): Promise<void> {
  if (steps?.some((s) => s.dataLoss?.length)) (await k8s()).checkClusterDataLoss(steps, allowDataLoss);
}

/** Applies the clusters' plan: images resolved (default: the local grid's, built once), removed workers drained first. */
export async function applySpecClusters(opts: GlobalOptions, grid: Grid, spec: Spec, steps: readonly ClusterStep[], o: { allowDataLoss?: boolean; progress: (m: string) => void; signal?: AbortSignal }): Promise<string[]> {
  if (!steps.some((s) => s.action !== "keep")) return [];
  const { K8sService, applyClusterPlan, drainAndDeleteNode } = await k8s();
  const desired = [...((spec.extensions?.clusters as ClusterSpec[] | undefined) ?? [])];
  const building = new Set(steps.filter((s) => s.action === "create" || s.action === "replace" || s.action === "scale").map((s) => s.name));
  const resolved = await Promise.all(desired.map(async (d) => (building.has(d.name) ? { ...d, flist: await flistOf(opts, d.flist, undefined, o.progress) } : d)));
  const made = await applyClusterPlan(new K8sService(grid), spec.project, resolved, steps, {
    ...(o.allowDataLoss ? { allowDataLoss: true } : {}), onProgress: o.progress, ...(o.signal ? { signal: o.signal } : {}),
    // a worker whose PersistentVolume is bound is refused (K8S_VOLUME_IN_USE): `zgrid k8s scale --drop-volumes` says yes
    removeNode: (kubeconfig, node) => drainAndDeleteNode(kubeconfig, node, { dropVolume: false }),
  });
  return made.map((c) => c.name);
}

/** `delete -f`: the project's clusters go too. */
export async function deleteSpecClusters(grid: Grid, project: string, progress: (m: string) => void): Promise<string[]> {
  if (!(await ownsClusters(grid, project))) return [];
  const { K8sService, deleteClusters } = await k8s();
  return deleteClusters(new K8sService(grid), project, { onProgress: progress });
}
