/**
 * The local grid's underlay: a host bridge (the grid's "internet", default `zgrid0` 10.249.0.1/16)
 * and node hosts, each a network namespace `zh-<name>` with a veth into that bridge. Inside a node
 * host the underlay NIC `eth0` is a port of the bridge `br-pub` holding the node's address, so the
 * node's public IPs (ip workloads) sit on the same segment as the farm's gateway — which the host
 * bridge also carries (default 185.69.0.1/24, the dev chain's farm IPs). A node daemon run with
 * `nodeHost.command(...)` is a separate host: its bus, WireGuard endpoint and gateway proxy listen
 * on the node's own address. Everything is idempotent and destroy removes all of it; the same node
 * code runs unchanged on a real machine (where `br-pub` is the bridge on the physical NIC).
 *
 * @example
 * ```ts
 * const u = await createUnderlay();                                   // zgrid0 10.249.0.1/16
 * const n1 = await createNodeHost(u, { name: "node1", address: "10.249.0.11" });
 * spawn(...n1.command(process.execPath, ["zosd.ts", "--config", cfg]));   // zosd inside the node host
 * await n1.destroy(); await u.destroy();
 * ```
 */
import { existsSync } from "node:fs";
import { runHost } from "../hypervisor/host-command.ts";
import { linkExists } from "../hypervisor/tap.ts";

export interface UnderlayOptions {
  bridge?: string;
  /** The host's address on the bridge (services nodes must reach — chain RPC, hub — listen here). */
  hostAddress?: string;
  prefix?: number;
  /** Farm gateway address(es) on the bridge, CIDR, IPv4 or IPv6 (public IPs of VMs route through them). */
  publicGateways?: string[];
}

export interface Underlay {
  bridge: string;
  hostAddress: string;
  prefix: number;
  publicGateways: string[];
  destroy(): Promise<void>;
}

export interface NodeHost {
  name: string;
  namespace: string;
  address: string;
  /** The bridge inside the node host that carries its underlay address (the node's public bridge). */
  publicBridge: string;
  /** argv to run a program inside the node host: `spawn(cmd, args)`. */
  command(program: string, args: string[]): [string, string[]];
  destroy(): Promise<void>;
}

export const PUBLIC_BRIDGE = "br-pub";

const ip = (...args: string[]) => runHost("ip", args);

/** Creates (or adopts) the underlay bridge with the host's address and the farm gateways. */
export async function createUnderlay(o: UnderlayOptions = {}): Promise<Underlay> {
  const bridge = o.bridge ?? "zgrid0";
  const hostAddress = o.hostAddress ?? "10.249.0.1";
  const prefix = o.prefix ?? 16;
  const publicGateways = o.publicGateways ?? ["185.69.0.1/24"];
  if (!linkExists(bridge)) await ip("link", "add", bridge, "type", "bridge");
  await ip("link", "set", bridge, "up");
  await ip("addr", "replace", `${hostAddress}/${prefix}`, "dev", bridge);
  for (const g of publicGateways) await ip("addr", "replace", g, "dev", bridge, ...(g.includes(":") ? ["nodad"] : []));
  return {
    bridge, hostAddress, prefix, publicGateways,
    async destroy() {
      if (linkExists(bridge)) await ip("link", "del", bridge);
    },
  };
}

/**
 * argv running `program` in node host `namespace`: in its network namespace ONLY (`nsenter --net`),
 * never `ip netns exec`, which also gives the program a private mount namespace. A node daemon
 * creates named network namespaces (/run/netns) and FUSE mounts; they must live in the host's
 * mount namespace, where the same daemon restarted later (a new process) finds them again.
 *
 * @example
 * ```ts
 * nodeHostCommand("zh-node1", "/usr/bin/node", ["zosd.ts"]); // ["nsenter", ["--net=/run/netns/zh-node1", "/usr/bin/node", "zosd.ts"]]
 * ```
 */
export function nodeHostCommand(namespace: string, program: string, args: string[]): [string, string[]] {
  return ["nsenter", [`--net=/run/netns/${namespace}`, program, ...args]];
}

/** Creates (or adopts) node host `name` (≤ 12 characters) with `address` on the underlay. */
export async function createNodeHost(u: Underlay, o: { name: string; address: string }): Promise<NodeHost> {
  if (!/^[a-z0-9-]{1,12}$/.test(o.name)) throw new RangeError(`node host name ${o.name}: 1-12 of a-z 0-9 -`);
  const namespace = `zh-${o.name}`;
  const hostSide = `zu-${o.name}`;
  const inNs = (...args: string[]) => ip("-n", namespace, ...args);
  if (!existsSync(`/run/netns/${namespace}`)) await ip("netns", "add", namespace);
  if (!linkExists(hostSide)) await ip("link", "add", hostSide, "type", "veth", "peer", "name", "eth0", "netns", namespace);
  await ip("link", "set", hostSide, "master", u.bridge, "up");
  await inNs("link", "set", "lo", "up");
  await inNs("link", "add", PUBLIC_BRIDGE, "type", "bridge").catch(() => undefined);
  await inNs("link", "set", "eth0", "master", PUBLIC_BRIDGE, "up");
  await inNs("link", "set", PUBLIC_BRIDGE, "up");
  await inNs("addr", "replace", `${o.address}/${u.prefix}`, "dev", PUBLIC_BRIDGE);
  await inNs("route", "replace", "default", "via", u.hostAddress);
  await runHost("nsenter", [`--net=/run/netns/${namespace}`, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
  return {
    name: o.name, namespace, address: o.address, publicBridge: PUBLIC_BRIDGE,
    command: (program, args) => nodeHostCommand(namespace, program, args),
    async destroy() {
      if (linkExists(hostSide)) await ip("link", "del", hostSide);
      if (existsSync(`/run/netns/${namespace}`)) await ip("netns", "del", namespace);
    },
  };
}
