/** zmount: a raw disk given to one VM (REFERENCE.md). SRU = size. Result {volume_id}. */
import { defineDiskType, type DiskData } from "./disk-type.ts";

export type ZMountData = DiskData;
export const zmount = defineDiskType("zmount");
