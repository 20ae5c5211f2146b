/**
 * ip: a public IP for a VM (REFERENCE.md). The IPv4 comes from the farm IPs reserved by the node
 * contract on chain. IPV4U = 1 when v4. Result {ip, ip6, gateway}.
 */
import { z } from "zod";
import { ZERO_CAPACITY } from "../capacity/capacity.ts";
import { defineWorkloadType } from "./workload-type.ts";

const schema = z.strictObject({ v4: z.boolean().default(false), v6: z.boolean().default(false) });
export type IpData = z.infer<typeof schema>;

/** What the node reports for a public IP (`workload.result.data`). */
export interface IpResult {
  /** IPv4 CIDR ("" when v4 is false). */
  ip: string;
  gateway: string;
  /** IPv6 CIDR ("" when v6 is false). */
  ip6: string;
  gateway6?: string;
  /** The bridge the zmachine's public NIC joins. */
  bridge?: string;
  zmachine: string;
  /** Records made before the public NIC (1:1 NAT in the network namespace): kept so deprovision cleans them. */
  namespace?: string;
  private_ip?: string;
}

export const ip = defineWorkloadType<IpData>({
  type: "ip",
  schema,
  updatable: false,
  validate(d, report) {
    if (!d.v4 && !d.v6) report("v4", d.v4, "v4 or v6 (or both) set to true");
  },
  challenge(enc, d) {
    enc.bool(d.v4).bool(d.v6);
  },
  capacity(d) {
    return { ...ZERO_CAPACITY, ipv4u: d.v4 ? 1 : 0 };
  },
});
