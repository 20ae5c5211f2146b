/**
 * Kubernetes clusters in a spec file, applied like its VMs (`zgrid apply -f spec.yaml`):
 *
 * ```yaml
 * project: shop
 * clusters:
 *   - name: demo          # the cluster model of `zgrid k8s create` (cluster-model.ts)
 *     workers: 2
 *     nodes: [1, 2]
 *     pv_size: 1024
 * ```
 *
 * Level-based per cluster: absent → create; present with another worker count → scale (a removed
 * worker is drained first); changed otherwise (sizes, nodes, network, public IP…) → replace, which
 * loses the cluster's etcd, volumes and pods' data, so it is named as data loss and refused
 * without `allowDataLoss`, as a replaced VM's disks are; a cluster of the project gone from the
 * spec → delete (data loss too). Which clusters a project owns is kept on the master's contract
 * (`spec` metadata: `cluster:<project>:<hash>`): a cluster made by `zgrid k8s create`, or by
 * another project, is never touched and its name is refused. The image (`flist`) is not part of
 * the hash: a new image is used by the workers a scale adds, never a reason to rebuild a cluster.
 *
 * @example
 * ```ts
 * const steps = planClusters("shop", spec.extensions?.clusters as ClusterSpec[], await k8s.list());
 * await applyClusterPlan(k8s, "shop", desired, steps, { flist, allowDataLoss: false });
 * ```
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { DataLossError, InputError, type ProgressFn } from "@zgrid/client";
import { clusterModelSchema } from "./cluster-model.ts";
import type { ClusterInfo, K8sService, NodeRemover } from "./k8s-service.ts";

/** The `clusters:` section: cluster models whose image may be left out (the caller supplies one). */
export const clusterSpecSchema = z.array(clusterModelSchema.extend({ flist: z.string().min(1).optional() })).max(16);
export type ClusterSpec = z.output<typeof clusterSpecSchema>[number];

export interface ClusterStep {
  action: "create" | "scale" | "replace" | "delete" | "keep";
  kind: "cluster";
  name: string;
  /** scale: worker counts. */
  workers?: { from: number; to: number };
  reason?: string;
  /** What the step destroys; applyClusterPlan refuses it unless allowDataLoss. */
  dataLoss?: string[];
}

/** The marker a project's cluster carries on its master's contract. */
export function clusterSpecMarker(project: string, c: ClusterSpec): string {
  const { flist: _flist, workers: _workers, ...shape } = c;
  return `cluster:${project}:${createHash("sha256").update(JSON.stringify(shape)).digest("hex").slice(0, 12)}`;
}

const ownedBy = (project: string, c: ClusterInfo) => c.master.spec?.startsWith(`cluster:${project}:`) === true;
const lossOf = (name: string) => [`cluster '${name}': etcd, PersistentVolumes and pods' data`];

/** What applying `desired` to the grid's clusters does, step by step (nothing is changed). */
export function planClusters(project: string, desired: readonly ClusterSpec[], existing: readonly ClusterInfo[]): ClusterStep[] {
  const steps: ClusterStep[] = [];
  const seen = new Set<string>();
  for (const d of desired) {
    if (seen.has(d.name)) throw new InputError(`cluster name '${d.name}' is used twice in the spec`, { hint: "give each cluster its own name" });
    seen.add(d.name);
    const cur = existing.find((c) => c.name === d.name);
    if (!cur) {
      steps.push({ action: "create", kind: "cluster", name: d.name });
      continue;
    }
    if (!ownedBy(project, cur)) {
      throw new InputError(`cluster '${d.name}' exists outside project '${project}'`, { details: { cluster: d.name }, hint: "rename it in the spec, or remove the other one (`zgrid k8s rm`)" });
    }
    if (cur.master.spec !== clusterSpecMarker(project, d)) {
      steps.push({ action: "replace", kind: "cluster", name: d.name, reason: "changed beyond its worker count (a cluster is rebuilt for that)", dataLoss: lossOf(d.name) });
    } else if (cur.workers.length !== d.workers) {
      steps.push({ action: "scale", kind: "cluster", name: d.name, workers: { from: cur.workers.length, to: d.workers } });
    } else {
      steps.push({ action: "keep", kind: "cluster", name: d.name });
    }
  }
  for (const c of existing) {
    if (ownedBy(project, c) && !seen.has(c.name)) steps.push({ action: "delete", kind: "cluster", name: c.name, dataLoss: lossOf(c.name) });
  }
  return steps;
}

/** DataLossError naming every step that destroys a cluster's data (nothing changed), unless allowed. */
export function checkClusterDataLoss(steps: readonly ClusterStep[], allowDataLoss: boolean): void {
  const losing = steps.filter((s) => s.dataLoss?.length);
  if (!losing.length || allowDataLoss) return;
  throw new DataLossError(`the plan destroys data: ${losing.map((s) => `${s.action} ${s.dataLoss!.join(", ")}${s.reason ? ` (${s.reason})` : ""}`).join("; ")}`, {
    details: { steps: losing },
    hint: "nothing was changed; keep the cluster in the spec as it is (only `workers` changes in place), or apply again with --allow-data-loss",
  });
}

export interface ApplyClustersOptions {
  /** The image for clusters (and new workers) whose spec gives none. */
  flist?: string;
  allowDataLoss?: boolean;
  /** Drains and deletes a Node before its worker VM goes (drainAndDeleteNode). */
  removeNode?: NodeRemover;
  onProgress?: ProgressFn;
  signal?: AbortSignal;
}

/** Runs a plan of `planClusters` (deletes and replacements first); refuses data loss unless allowed. */
export async function applyClusterPlan(k8s: K8sService, project: string, desired: readonly ClusterSpec[], steps: readonly ClusterStep[], o: ApplyClustersOptions): Promise<ClusterInfo[]> {
  checkClusterDataLoss(steps, o.allowDataLoss === true);
  const progress = o.onProgress ?? (() => undefined);
  const common = { ...(o.signal ? { signal: o.signal } : {}) };
  const modelOf = (name: string) => {
    const d = desired.find((x) => x.name === name)!;
    const flist = d.flist ?? o.flist;
    if (!flist) throw new InputError(`cluster '${name}': no image (flist) given`, { hint: "set flist: in the cluster's spec, or pass a default image" });
    return { ...d, flist };
  };
  for (const s of steps.filter((x) => x.action === "delete" || x.action === "replace")) {
    progress(`cluster '${s.name}': removing${s.action === "replace" ? " (to rebuild it)" : ""}`);
    await k8s.delete(s.name, { ...common, onProgress: (m) => progress(`cluster '${s.name}': ${m}`) });
  }
  const made: ClusterInfo[] = [];
  for (const s of steps.filter((x) => x.action === "create" || x.action === "replace")) {
    const model = modelOf(s.name);
    progress(`cluster '${s.name}': creating (1 master, ${model.workers} worker(s))`);
    made.push(await k8s.create(model, { ...common, spec: clusterSpecMarker(project, model), onProgress: (m) => progress(`cluster '${s.name}': ${m}`) }));
  }
  for (const s of steps.filter((x) => x.action === "scale")) {
    const model = modelOf(s.name);
    progress(`cluster '${s.name}': scaling workers ${s.workers!.from} → ${s.workers!.to}`);
    made.push(await k8s.scale(s.name, model.workers, { ...common, flist: model.flist, ...(o.removeNode ? { removeNode: o.removeNode } : {}), onProgress: (m) => progress(`cluster '${s.name}': ${m}`) }));
  }
  return made;
}

/** Removes the project's clusters (`zgrid delete -f`). */
export async function deleteClusters(k8s: K8sService, project: string, o: { onProgress?: ProgressFn; signal?: AbortSignal } = {}): Promise<string[]> {
  const gone: string[] = [];
  for (const c of (await k8s.list()).filter((x) => ownedBy(project, x))) {
    o.onProgress?.(`cluster '${c.name}': removing`);
    await k8s.delete(c.name, { ...(o.signal ? { signal: o.signal } : {}), ...(o.onProgress ? { onProgress: o.onProgress } : {}) });
    gone.push(c.name);
  }
  return gone;
}
