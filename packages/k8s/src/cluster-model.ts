/**
 * The cluster model users write (CLI flags, SDK calls, spec files): one master, N workers, all on
 * one private zgrid network, each a zmachine booted from the Kubernetes flist. Sizes in MiB.
 *
 * @example
 * ```ts
 * const c = clusterModelSchema.parse({ name: "demo", flist: url, workers: 2, nodes: [1, 2] });
 * nodeNameOf(c.name, "w", 1); // "demo-w1"
 * ```
 */
import { z } from "zod";

const size = (min: number, dflt: number) => z.number().int().min(min).default(dflt);

export const nodeSizeSchema = z.strictObject({
  cpu: z.number().int().min(1).max(32).default(2),
  /** MiB; a TCG master needs ~1.5 GiB for etcd + API server + controllers + kubelet. */
  memory: size(1024, 2048),
  /** MiB of the data disk (containerd images, kubelet, etcd) mounted on /var/lib/zk8s. */
  disk: size(1024, 6144),
});

export const clusterModelSchema = z.strictObject({
  /** Lower-case letters, digits and '-' (a DNS label prefix of every node name), at most 20. */
  name: z.string().regex(/^[a-z][a-z0-9-]{0,18}[a-z0-9]$/, "2-20 lower-case letters, digits and '-', starting with a letter"),
  flist: z.url(),
  masters: z.literal(1).default(1),
  workers: z.number().int().min(0).max(20).default(1),
  /** The master's node; without it the node finder picks. */
  node: z.number().int().min(1).optional(),
  /** Nodes for the workers, used round robin (e.g. [1, 2]); without them the node finder picks. */
  nodes: z.array(z.number().int().min(1)).max(64).default([]),
  farm: z.number().int().min(1).optional(),
  /** A public IPv4 on the master: the API server on <ip>:6443. */
  public_ip: z.boolean().default(false),
  /** The master takes pods too (no NoSchedule taint). */
  schedulable_master: z.boolean().default(false),
  master: nodeSizeSchema.default({ cpu: 2, memory: 2048, disk: 6144 }),
  worker: nodeSizeSchema.default({ cpu: 2, memory: 1536, disk: 6144 }),
  /**
   * MiB of a second zgrid disk on each worker, offered to the cluster as a `local` PersistentVolume
   * (`zgrid-pv-<node>`, storage class `zgrid-local`); 0: none.
   */
  pv_size: z.number().int().min(0).max(4_194_304).default(0),
  /** Registries the nodes pull from over plain HTTP ("host:port"), e.g. a local docker-registry. */
  registries: z.array(z.string().regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, "host or host:port")).max(16).default([]),
  ssh_key: z.string().optional(),
  network: z.string().regex(/^[a-zA-Z0-9_]{1,36}$/).optional(),
});
export type ClusterModel = z.output<typeof clusterModelSchema>;
export type ClusterModelInput = z.input<typeof clusterModelSchema>;

/** zgrid VM name (workload names allow [A-Za-z0-9_]) of a cluster's master ("m") or worker ("w"). */
export function vmNameOf(cluster: string, role: "m" | "w", index: number): string {
  return `${cluster.replaceAll("-", "_")}_${role}${index}`;
}

/** Kubernetes node name (a DNS label) of a cluster's VM. */
export function nodeNameOf(cluster: string, role: "m" | "w", index: number): string {
  return `${cluster}-${role}${index}`;
}

/** The contract project marking a cluster's VMs. */
export function projectOf(cluster: string): string {
  return `k8s-${cluster}`;
}

export function networkOf(c: ClusterModel): string {
  return c.network ?? `k8s_${c.name.replaceAll("-", "_")}`;
}
