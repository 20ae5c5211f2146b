/** zmount: a raw disk given to one VM (REFERENCE.md). SRU = size. Result {volume_id}. */
import { defineDiskType, type DiskData } from "./disk-type.ts";

export type ZMountData = DiskData;

/** What the node reports for a zmount or volume disk (`workload.result.data`). */
export interface DiskResult {
  volume_id: string;
  path: string;
  size: number;
}
export const zmount = defineDiskType("zmount");
