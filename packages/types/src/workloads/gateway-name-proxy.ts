/**
 * gateway-name-proxy: publishes backends as <name>.<gateway node domain>. The name must be held by
 * the twin's name contract on chain (the node checks that). Result {fqdn}.
 */
import { z } from "zod";
import { ZERO_CAPACITY } from "../capacity/capacity.ts";
import { WORKLOAD_NAME } from "./common.ts";
import { backendsSchema, validateBackends } from "./gateway-backends.ts";
import { defineWorkloadType } from "./workload-type.ts";

/** Name contract names (REFERENCE.md): 3–64 of [a-z0-9-_]; also a valid DNS label here. */
export const GATEWAY_NAME = /^[a-z0-9_-]{3,63}$/;

const schema = z.strictObject({
  name: z.string(),
  tls_passthrough: z.boolean().default(false),
  backends: backendsSchema,
  network: z.string().optional(),
});
export type GatewayNameProxyData = z.infer<typeof schema>;

/** What the node reports for a name or FQDN gateway (`workload.result.data`). */
export interface GatewayResult {
  fqdn: string;
}

export const gatewayNameProxy = defineWorkloadType<GatewayNameProxyData>({
  type: "gateway-name-proxy",
  schema,
  /** Backends (and the rest) change in place: the node swaps its route (new backends through HAProxy's runtime API, no reload). */
  updatable: true,
  validate(d, report) {
    if (!GATEWAY_NAME.test(d.name) || d.name.startsWith("-") || d.name.endsWith("-")) {
      report("name", d.name, "3 to 63 of a-z 0-9 - _, not starting or ending with - (the name of your name contract)");
    }
    validateBackends(d.backends, d.tls_passthrough, report);
    if (d.network !== undefined && !WORKLOAD_NAME.test(d.network)) report("network", d.network, "the name of a network workload");
  },
  challenge(enc, d) {
    enc.str(d.name).bool(d.tls_passthrough).list(d.backends, (e, b) => e.str(b)).optional(d.network, (e, n) => e.str(n));
  },
  capacity() {
    return { ...ZERO_CAPACITY };
  },
});
