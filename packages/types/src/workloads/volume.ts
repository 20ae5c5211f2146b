/** volume: a directory shared into a VM (REFERENCE.md, virtiofs there). SRU = size. Result {id}. */
import { defineDiskType, type DiskData } from "./disk-type.ts";

export type VolumeData = DiskData;
export const volume = defineDiskType("volume");
