/** gateway-fqdn-proxy: publishes backends under a domain the user points at the gateway node. Result {fqdn}. */
import { z } from "zod";
import { ZERO_CAPACITY } from "../capacity/capacity.ts";
import { WORKLOAD_NAME } from "./common.ts";
import { backendsSchema, validateBackends } from "./gateway-backends.ts";
import { defineWorkloadType } from "./workload-type.ts";

/** A fully qualified domain name: at least two labels, each 1–63 of [a-z0-9-], not edged by '-'. */
export function isFqdn(text: string): boolean {
  const name = text.endsWith(".") ? text.slice(0, -1) : text;
  if (name.length > 253) return false;
  const labels = name.split(".");
  return labels.length >= 2 && labels.every((l) => /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/.test(l)) && !/^\d+$/.test(labels.at(-1) ?? "");
}

const schema = z.strictObject({
  fqdn: z.string(),
  tls_passthrough: z.boolean().default(false),
  backends: backendsSchema,
  network: z.string().optional(),
});
export type GatewayFqdnProxyData = z.infer<typeof schema>;

export const gatewayFqdnProxy = defineWorkloadType<GatewayFqdnProxyData>({
  type: "gateway-fqdn-proxy",
  schema,
  /** Backends (and the rest) change in place: the node swaps its route (new backends through HAProxy's runtime API, no reload). */
  updatable: true,
  validate(d, report) {
    if (!isFqdn(d.fqdn)) report("fqdn", d.fqdn, "a domain name like app.example.com");
    validateBackends(d.backends, d.tls_passthrough, report);
    if (d.network !== undefined && !WORKLOAD_NAME.test(d.network)) report("network", d.network, "the name of a network workload");
  },
  challenge(enc, d) {
    enc.str(d.fqdn.toLowerCase()).bool(d.tls_passthrough).list(d.backends, (e, b) => e.str(b)).optional(d.network, (e, n) => e.str(n));
  },
  capacity() {
    return { ...ZERO_CAPACITY };
  },
});
