/**
 * zmount and volume share their wire shape and rules: `{ size }` in bytes, at least 1 MiB (a
 * smaller disk cannot hold a filesystem: it is always a bytes-vs-MiB mistake), SRU = size,
 * updatable in place. They differ in how a node provides them.
 */
import { z } from "zod";
import { ZERO_CAPACITY } from "../capacity/capacity.ts";
import { byteSize } from "./common.ts";
import { MiB } from "./limits.ts";
import { defineWorkloadType, type WorkloadType } from "./workload-type.ts";

const schema = z.strictObject({ size: byteSize });
export type DiskData = z.infer<typeof schema>;

export function defineDiskType(type: "zmount" | "volume"): WorkloadType<DiskData> {
  return defineWorkloadType<DiskData>({
    type,
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
}
