/**
 * Where a node keeps workload data under its data dir, and the deterministic host names
 * (bridges, namespaces) of its networks. Names are derived, never stored, so a restarted daemon
 * (or a cleanup pass) finds everything it created.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";

export interface NodePaths {
  dataDir: string;
  disk(workloadId: string): string;
  vmDir(workloadId: string): string;
  flistMount(workloadId: string): string;
  cacheDir: string;
}

export function nodePaths(dataDir: string): NodePaths {
  return {
    dataDir,
    disk: (wid) => join(dataDir, "disks", `${wid}.img`),
    vmDir: (wid) => join(dataDir, "vms", wid),
    flistMount: (wid) => join(dataDir, "mnt", wid),
    cacheDir: join(dataDir, "cache"),
  };
}

/** Host names of one twin's network on one node: bridge, namespace and the veth pair. */
export interface NetworkNames {
  id: string;
  bridge: string;
  namespace: string;
  vethHost: string;
  vethNs: string;
}

/**
 * @example
 * ```ts
 * networkNames(3, 7, "net"); // { id: "5f1c9a2e", bridge: "b-5f1c9a2e", namespace: "n-5f1c9a2e", … }
 * ```
 */
export function networkNames(nodeId: number, twinId: number, name: string, scope = ""): NetworkNames {
  // Unique per node too: several node daemons may share one host (the local grid); `scope` (the
  // node's account) keeps nodes of different grids (same node id) on one machine apart.
  const id = createHash("sha256").update(`${nodeId}/${twinId}/${name}${scope ? `/${scope}` : ""}`).digest("hex").slice(0, 8);
  return { id, bridge: `b-${id}`, namespace: `n-${id}`, vethHost: `vh-${id}`, vethNs: `vn-${id}` };
}
