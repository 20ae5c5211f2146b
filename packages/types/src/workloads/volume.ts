/** volume: a directory shared into a VM (REFERENCE.md, virtiofs there). SRU = size. Result {id}. */
import { z } from "zod";
import { ZERO_CAPACITY } from "../capacity/capacity.ts";
import { byteSize } from "./common.ts";
import { MiB } from "./limits.ts";
import { defineWorkloadType } from "./workload-type.ts";

const schema = z.strictObject({ size: byteSize });
export type VolumeData = z.infer<typeof schema>;

export const volume = defineWorkloadType<VolumeData>({
  type: "volume",
  schema,
  updatable: true,
  validate(d, report) {
    if (d.size < MiB) report("size", d.size, `bytes, at least ${MiB} (1 MiB)`);
  },
  challenge(enc, d) {
    enc.u64(d.size);
  },
  capacity(d) {
    return { ...ZERO_CAPACITY, sru: d.size };
  },
});
