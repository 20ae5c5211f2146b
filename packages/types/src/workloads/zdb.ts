/** zdb: a 0-db namespace (REFERENCE.md). HRU = size. */
import { z } from "zod";
import { ZERO_CAPACITY } from "../capacity/capacity.ts";
import { byteSize } from "./common.ts";
import { MiB } from "./limits.ts";
import { defineWorkloadType } from "./workload-type.ts";

const schema = z.strictObject({
  size: byteSize,
  mode: z.enum(["user", "seq"]).default("user"),
  password: z.string().max(128).default(""),
  public: z.boolean().default(false),
});
export type ZdbData = z.infer<typeof schema>;

export const zdb = defineWorkloadType<ZdbData>({
  type: "zdb",
  schema,
  updatable: true,
  validate(d, report) {
    if (d.size < MiB) report("size", d.size, `bytes, at least ${MiB} (1 MiB)`);
    if (/[\0\s]/.test(d.password)) report("password", "(hidden)", "a password without whitespace or NUL");
  },
  challenge(enc, d) {
    enc.u64(d.size).str(d.mode).str(d.password).bool(d.public);
  },
  capacity(d) {
    return { ...ZERO_CAPACITY, hru: d.size };
  },
});

/** Where a zdb namespace answers RESP: on a twin network's gateway address, or the node's own. */
export interface ZdbEndpoint {
  address: string;
  port: number;
  /** Name of the twin's network workload for a private endpoint; absent on the node's address. */
  network?: string;
}

/**
 * Result data of a zdb workload: the namespace to `SELECT` and where to connect.
 *
 * @example
 * ```ts
 * const r = workload.result?.data as ZdbResult; // { namespace: "7-12-db", endpoints: [{ address: "10.20.2.1", port: 9900, network: "net" }, …] }
 * ```
 */
export interface ZdbResult {
  namespace: string;
  endpoints: ZdbEndpoint[];
}
