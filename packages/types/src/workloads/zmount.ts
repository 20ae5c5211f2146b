/** zmount: a raw disk given to one VM (REFERENCE.md). SRU = size. Result {volume_id}. */
import { z } from "zod";
import { ZERO_CAPACITY } from "../capacity/capacity.ts";
import { byteSize } from "./common.ts";
import { MiB } from "./limits.ts";
import { defineWorkloadType } from "./workload-type.ts";

const schema = z.strictObject({ size: byteSize });
export type ZMountData = z.infer<typeof schema>;

export const zmount = defineWorkloadType<ZMountData>({
  type: "zmount",
  schema,
  updatable: true,
  validate(d, report) {
    // A disk smaller than 1 MiB cannot hold a filesystem; it is always a mistake (bytes vs MiB).
    if (d.size < MiB) report("size", d.size, `bytes, at least ${MiB} (1 MiB)`);
  },
  challenge(enc, d) {
    enc.u64(d.size);
  },
  capacity(d) {
    return { ...ZERO_CAPACITY, sru: d.size };
  },
});
