/**
 * volume: in the reference a host directory shared into the VM over virtiofs. Here a volume is an
 * ext4 disk image of `size` bytes, like a zmount: the guest sees a directory at the mountpoint with
 * a hard size limit (a shared directory would need a quota), and the data outlives VM restarts.
 * Debian's QEMU ships /usr/lib/qemu/virtiofsd, but virtiofs needs the guest RAM on a shared memory
 * backend; moving volumes to it is a later step. Same lifecycle as zmount.
 */
import type { WorkloadManager } from "../../engine/workload-manager.ts";
import type { NodePaths } from "../node-paths.ts";
import { diskManager, type DiskWorkload } from "../zmount/zmount-manager.ts";

export function volumeManager(paths: NodePaths): WorkloadManager<DiskWorkload> {
  return diskManager(paths);
}
