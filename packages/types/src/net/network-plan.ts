/**
 * Client-side planning of a private network across nodes (pure functions): a /24 per node inside
 * the network's /16, a WireGuard key pair per node, each node's peer list (every other node, plus
 * the user's access subnet routed through the access node), and a wg-quick file so the user's own
 * machine can join. The client SDK deploys `plan.nodes[i].workload` on each node.
 *
 * @example
 * ```ts
 * const plan = planNetwork({ ipRange: "10.20.0.0/16", nodes: [
 *   { nodeId: 1, endpoint: "10.249.0.11", listenPort: 51820 },
 *   { nodeId: 2, endpoint: "10.249.0.12", listenPort: 51820 } ], userAccess: { nodeId: 1 } });
 * plan.nodes[0].workload;  // { ip_range, subnet: "10.20.2.0/24", wireguard_private_key, wireguard_listen_port, peers: [...] }
 * plan.userAccess?.config; // "[Interface]\nPrivateKey = …\nAddress = 10.20.4.2/24\n…"
 * ```
 */
import { generateKeyPairSync, createPublicKey, createPrivateKey } from "node:crypto";

export interface WgKeyPair { privateKey: string; publicKey: string }

export interface NetworkPeer { subnet: string; wireguard_public_key: string; allowed_ips: string[]; endpoint: string }

export interface NetworkWorkloadData {
  ip_range: string;
  subnet: string;
  wireguard_private_key: string;
  wireguard_listen_port: number;
  peers: NetworkPeer[];
}

export interface PlannedNode { nodeId: number; subnet: string; keys: WgKeyPair; workload: NetworkWorkloadData }

export interface NetworkPlan {
  ipRange: string;
  nodes: PlannedNode[];
  /** `config` (the wg-quick file) is empty when only the user's public key was given. */
  userAccess?: { subnet: string; address: string; keys: WgKeyPair; nodeId: number; config: string };
}

/** The user's machine as a peer: a new key pair, a private key to keep, or only the public key (re-planning). */
export interface UserAccessInput { nodeId: number; subnet?: string; privateKey?: string; publicKey?: string }

export interface PlanNodeInput {
  nodeId: number;
  /** The node's underlay address (IPv4, or IPv6 without brackets). */
  endpoint: string;
  listenPort: number;
  /** Keep an existing subnet / key (re-planning an existing network). */
  subnet?: string;
  privateKey?: string;
}

const b64 = (s: string) => Buffer.from(s, "base64url").toString("base64");

/** A fresh WireGuard (X25519) key pair in base64. */
export function generateWgKeyPair(): WgKeyPair {
  const { privateKey } = generateKeyPairSync("x25519");
  return wgKeyPairFromPrivate(b64(privateKey.export({ format: "jwk" }).d!));
}

/** The public key of a base64 WireGuard private key. */
export function wgKeyPairFromPrivate(privateKey: string): WgKeyPair {
  const x = createPrivateKey({ key: { kty: "OKP", crv: "X25519", d: Buffer.from(privateKey, "base64").toString("base64url"), x: "" }, format: "jwk" });
  const pub = createPublicKey(x).export({ format: "jwk" }).x!;
  return { privateKey, publicKey: b64(pub) };
}

function parseRange(ipRange: string): [number, number] {
  const m = /^(\d+)\.(\d+)\.0\.0\/16$/.exec(ipRange);
  if (!m) throw new RangeError(`ip_range ${ipRange} is not an IPv4 /16 like 10.20.0.0/16`);
  return [Number(m[1]), Number(m[2])];
}

/** The n-th /24 of a /16 (n from 2: .0 and .1 are kept free, as in the reference). */
export function subnetOf(ipRange: string, n: number): string {
  const [a, b] = parseRange(ipRange);
  if (n < 0 || n > 255) throw new RangeError(`no /24 number ${n} in ${ipRange}`);
  return `${a}.${b}.${n}.0/24`;
}

const endpointOf = (host: string, port: number) => (host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`);

/**
 * Plans the network: subnets (kept when given, else the lowest free /24 from .2), keys, peers.
 * Throws RangeError on a duplicate node, a subnet outside the range or used twice.
 */
export function planNetwork(o: { ipRange: string; nodes: PlanNodeInput[]; userAccess?: UserAccessInput }): NetworkPlan {
  parseRange(o.ipRange);
  const prefix = o.ipRange.replace(/\.0\.0\/16$/, ".");
  const used = new Set<string>();
  const claim = (s: string) => {
    if (!s.startsWith(prefix) || !/\.\d+\.0\/24$/.test(s)) throw new RangeError(`subnet ${s} is not a /24 inside ${o.ipRange}`);
    if (used.has(s)) throw new RangeError(`subnet ${s} is used twice in the network`);
    used.add(s);
    return s;
  };
  const ids = new Set<number>();
  for (const n of o.nodes) {
    if (ids.has(n.nodeId)) throw new RangeError(`node ${n.nodeId} is listed twice`);
    ids.add(n.nodeId);
    if (n.subnet) claim(n.subnet);
  }
  if (o.userAccess?.subnet) claim(o.userAccess.subnet);
  const next = () => {
    for (let i = 2; i < 255; i++) if (!used.has(subnetOf(o.ipRange, i))) return claim(subnetOf(o.ipRange, i));
    throw new RangeError(`no free /24 left in ${o.ipRange}`);
  };
  const base = o.nodes.map((n) => ({ input: n, subnet: n.subnet ?? "", keys: n.privateKey ? wgKeyPairFromPrivate(n.privateKey) : generateWgKeyPair() }));
  for (const b of base) if (!b.subnet) b.subnet = next();
  let user: NetworkPlan["userAccess"];
  if (o.userAccess) {
    const access = base.find((b) => b.input.nodeId === o.userAccess!.nodeId);
    if (!access) throw new RangeError(`user access node ${o.userAccess.nodeId} is not a node of the network`);
    const subnet = o.userAccess.subnet ?? next();
    const given = o.userAccess;
    const keys = given.privateKey ? wgKeyPairFromPrivate(given.privateKey) : given.publicKey ? { privateKey: "", publicKey: given.publicKey } : generateWgKeyPair();
    const address = subnet.replace(/\.0\/24$/, ".2");
    const config = !keys.privateKey ? "" : [
      "[Interface]", `PrivateKey = ${keys.privateKey}`, `Address = ${address}/24`, "",
      "[Peer]", `PublicKey = ${access.keys.publicKey}`, `AllowedIPs = ${o.ipRange}`,
      `Endpoint = ${endpointOf(access.input.endpoint, access.input.listenPort)}`, "PersistentKeepalive = 25", "",
    ].join("\n");
    user = { subnet, address, keys, nodeId: access.input.nodeId, config };
  }
  const nodes = base.map((self): PlannedNode => {
    const peers: NetworkPeer[] = base.filter((b) => b !== self).map((b) => {
      // The user's subnet is reached through the access node.
      const viaAccess = user && b.input.nodeId === user.nodeId ? [user.subnet] : [];
      return { subnet: b.subnet, wireguard_public_key: b.keys.publicKey, allowed_ips: [b.subnet, ...viaAccess], endpoint: endpointOf(b.input.endpoint, b.input.listenPort) };
    });
    if (user && self.input.nodeId === user.nodeId) peers.push({ subnet: user.subnet, wireguard_public_key: user.keys.publicKey, allowed_ips: [user.subnet], endpoint: "" });
    return {
      nodeId: self.input.nodeId, subnet: self.subnet, keys: self.keys,
      workload: { ip_range: o.ipRange, subnet: self.subnet, wireguard_private_key: self.keys.privateKey, wireguard_listen_port: self.input.listenPort, peers },
    };
  });
  return { ipRange: o.ipRange, nodes, ...(user ? { userAccess: user } : {}) };
}
