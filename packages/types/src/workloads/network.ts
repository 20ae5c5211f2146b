/**
 * network: a private network's part on one node (REFERENCE.md): ip_range is the whole network
 * (/16), subnet this node's /24 inside it, a WireGuard key and port, and the peers (other nodes'
 * subnets). Capacity 0.
 */
import { z } from "zod";
import { ZERO_CAPACITY } from "../capacity/capacity.ts";
import { cidrOverlaps, cidrWithin, parseCidr, parseNetwork } from "../net/ip.ts";
import { defineWorkloadType } from "./workload-type.ts";

const WG_KEY = /^[A-Za-z0-9+/]{43}=$/;
const ENDPOINT = /^(?:(?:\d{1,3}\.){3}\d{1,3}|\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

const schema = z.strictObject({
  ip_range: z.string(),
  subnet: z.string(),
  wireguard_private_key: z.string(),
  wireguard_listen_port: z.number().int(),
  peers: z.array(z.strictObject({
    subnet: z.string(),
    wireguard_public_key: z.string(),
    allowed_ips: z.array(z.string()).max(64),
    endpoint: z.string().default(""),
  })).max(1024).default([]),
  mycelium: z.strictObject({ key: z.string(), peers: z.array(z.string()).max(64).default([]) }).optional(),
});
export type NetworkData = z.infer<typeof schema>;

/** What the node reports for its part of a private network (`workload.result.data`). */
export interface NetworkResult {
  bridge: string;
  namespace: string;
  gateway: string;
  subnet: string;
  prefix: number;
  ip_range: string;
  /** The WireGuard interface in the namespace. */
  wireguard: string;
  listen_port: number;
}

export const network = defineWorkloadType<NetworkData>({
  type: "network",
  schema,
  updatable: true,
  validate(d, report) {
    const range = parseNetwork(d.ip_range);
    if (!range || range.kind !== "ipv4" || range.prefix !== 16) {
      report("ip_range", d.ip_range, "an IPv4 /16 network, e.g. 10.20.0.0/16");
    }
    const subnet = parseNetwork(d.subnet);
    if (!subnet || subnet.kind !== "ipv4" || subnet.prefix !== 24) report("subnet", d.subnet, "an IPv4 /24 network, e.g. 10.20.2.0/24");
    else if (range && !cidrWithin(subnet, range)) report("subnet", d.subnet, `a /24 inside ip_range ${d.ip_range}`);
    if (!WG_KEY.test(d.wireguard_private_key)) report("wireguard_private_key", "(hidden)", "a WireGuard key: 32 bytes in base64 (44 characters)");
    if (d.wireguard_listen_port < 1024 || d.wireguard_listen_port > 65535) {
      report("wireguard_listen_port", d.wireguard_listen_port, "a UDP port from 1024 to 65535 (ports below 1024 are the node's own)");
    }
    const seen = subnet ? [subnet] : [];
    d.peers.forEach((p, i) => {
      const ps = parseNetwork(p.subnet);
      if (!ps || ps.kind !== "ipv4" || ps.prefix !== 24) report(`peers.${i}.subnet`, p.subnet, "an IPv4 /24 network");
      else if (range && !cidrWithin(ps, range)) report(`peers.${i}.subnet`, p.subnet, `a /24 inside ip_range ${d.ip_range}`);
      else if (seen.some((s) => cidrOverlaps(s, ps))) report(`peers.${i}.subnet`, p.subnet, "a subnet no other node of the network uses");
      else seen.push(ps);
      if (!WG_KEY.test(p.wireguard_public_key)) report(`peers.${i}.wireguard_public_key`, p.wireguard_public_key, "a WireGuard public key in base64 (44 characters)");
      p.allowed_ips.forEach((a, j) => {
        if (!parseCidr(a)) report(`peers.${i}.allowed_ips.${j}`, a, "a CIDR, e.g. 10.20.3.0/24");
      });
      if (p.endpoint !== "") {
        const m = ENDPOINT.exec(p.endpoint);
        const port = m ? Number(m[1]) : 0;
        if (!m || port < 1 || port > 65535) report(`peers.${i}.endpoint`, p.endpoint, "empty or host:port (IPv6 as [addr]:port)");
      }
    });
    if (d.mycelium && !/^[0-9a-fA-F]{64}$/.test(d.mycelium.key)) report("mycelium.key", "(hidden)", "32 bytes as 64 hex digits");
  },
  challenge(enc, d) {
    enc.str(d.ip_range).str(d.subnet).str(d.wireguard_private_key).u64(d.wireguard_listen_port);
    enc.list(d.peers, (e, p) => {
      e.str(p.subnet).str(p.wireguard_public_key).list(p.allowed_ips, (e2, a) => e2.str(a)).str(p.endpoint);
    });
    enc.optional(d.mycelium, (e, m) => e.str(m.key).list(m.peers, (e2, p) => e2.str(p)));
  },
  capacity() {
    return { ...ZERO_CAPACITY };
  },
});
