/**
 * Where a node keeps workload data under its data dir. Paths are derived, never stored, so a
 * restarted daemon (or a cleanup pass) finds everything it created.
 *
 * @example
 * ```ts
 * nodePaths("/var/lib/zos").disk("7-12-root"); // "/var/lib/zos/disks/7-12-root.img"
 * ```
 */
import { join } from "node:path";

/** The name of a zmachine's root mountpoint inside its share directory. */
export const FLIST_ROOT_SUBDIR = "root";

export interface NodePaths {
  dataDir: string;
  disk(workloadId: string): string;
  vmDir(workloadId: string): string;
  /**
   * A zmachine's flist mountpoint: `mnt/<wid>/root`. `mnt/<wid>` (flistShare) is the VM's 9p share,
   * so a dead mount can be mounted again under the running VM. VMs started before this layout
   * used `mnt/<wid>` itself (legacyFlistMount).
   */
  flistMount(workloadId: string): string;
  flistShare(workloadId: string): string;
  legacyFlistMount(workloadId: string): string;
  cacheDir: string;
}

export function nodePaths(dataDir: string): NodePaths {
  return {
    dataDir,
    disk: (wid) => join(dataDir, "disks", `${wid}.img`),
    vmDir: (wid) => join(dataDir, "vms", wid),
    flistMount: (wid) => join(dataDir, "mnt", wid, FLIST_ROOT_SUBDIR),
    flistShare: (wid) => join(dataDir, "mnt", wid),
    legacyFlistMount: (wid) => join(dataDir, "mnt", wid),
    cacheDir: join(dataDir, "cache"),
  };
}

// Network host names are shared with the client: they live in @zgrid/types (net/network-names.ts).
export { networkNames, type NetworkNames } from "@zgrid/types";
