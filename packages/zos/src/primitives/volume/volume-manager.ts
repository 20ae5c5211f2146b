/**
 * volume: in the reference a directory shared into the VM over virtiofs. zgrid's guest has no
 * virtiofsd here (no Debian package for the host side in bookworm's QEMU build), so a volume is an
 * ext4 disk image of `size` bytes, like a zmount: the guest sees a directory at the mountpoint with
 * the same size limit, and data outlives VM restarts. Same lifecycle as zmount.
 */
import type { WorkloadManager } from "../../engine/workload-manager.ts";
import type { NodePaths } from "../node-paths.ts";
import { diskManager, type DiskWorkload } from "../zmount/zmount-manager.ts";

export function volumeManager(paths: NodePaths): WorkloadManager<DiskWorkload> {
  return diskManager(paths);
}
