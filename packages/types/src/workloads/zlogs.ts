/** zlogs: streams a zmachine's console to an output (REFERENCE.md): redis://, ws:// or wss://. */
import { z } from "zod";
import { ZERO_CAPACITY } from "../capacity/capacity.ts";
import { WORKLOAD_NAME } from "./common.ts";
import { defineWorkloadType } from "./workload-type.ts";

const schema = z.strictObject({ zmachine: z.string(), output: z.string().max(2048) });
export type ZlogsData = z.infer<typeof schema>;

/** What the node reports for a console stream (`workload.result.data`). */
export interface ZlogsResult {
  zmachine: string;
  output: string;
}

export const zlogs = defineWorkloadType<ZlogsData>({
  type: "zlogs",
  schema,
  updatable: false,
  validate(d, report) {
    if (!WORKLOAD_NAME.test(d.zmachine)) report("zmachine", d.zmachine, "the name of a zmachine in this deployment");
    let ok = false;
    try {
      const u = new URL(d.output);
      ok = ["redis:", "ws:", "wss:"].includes(u.protocol) && u.hostname !== "";
    } catch {
      ok = false;
    }
    if (!ok) report("output", d.output, "a redis://, ws:// or wss:// URL");
  },
  challenge(enc, d) {
    enc.str(d.zmachine).str(d.output);
  },
  capacity() {
    return { ...ZERO_CAPACITY };
  },
});
