/**
 * Outbound IPv4 for private networks (the reference's "ndmz"): the node keeps a bridge `br-ndmz`
 * (100.127.0.1/16) whose traffic it masquerades out of its own address; each network namespace
 * gets a veth into it with a 100.127.x.y address derived from the network's id, a default route
 * there (metric 100, so a public IP's default route wins) and masquerades its subnet behind that
 * address. VMs without a public IP so reach the node's network (the local grid's host, or the
 * internet on a real node) and nothing can reach them back unasked.
 *
 * @example
 * ```ts
 * await ensureEgress(networkNames(3, 7, "net"), "10.20.2.0/24");
 * ```
 */
import { runHost } from "../../hypervisor/host-command.ts";
import { linkExists } from "../../hypervisor/tap.ts";
import type { NetworkNames } from "../node-paths.ts";

export const NDMZ_BRIDGE = "br-ndmz";
const NDMZ_GATEWAY = "100.127.0.1";
const NDMZ_RANGE = "100.127.0.0/16";

const ipt = async (ns: string | undefined, rule: string[]) => {
  const run = (op: string) => (ns ? runHost("ip", ["netns", "exec", ns, "iptables", "-t", "nat", op, ...rule]) : runHost("iptables", ["-t", "nat", op, ...rule]));
  if (!(await run("-C").then(() => true, () => false))) await run("-A");
};

/**
 * The node's side: the ndmz bridge and masquerade of the range out of other links. Forwarding in
 * the node's namespace is the host's business (node hosts of the underlay have it on; a node that
 * runs in a machine's own namespace does not switch it on for the whole machine).
 */
export async function ensureNodeNdmz(): Promise<void> {
  if (!linkExists(NDMZ_BRIDGE)) await runHost("ip", ["link", "add", NDMZ_BRIDGE, "type", "bridge"]);
  await runHost("ip", ["addr", "replace", `${NDMZ_GATEWAY}/16`, "dev", NDMZ_BRIDGE]);
  await runHost("ip", ["link", "set", NDMZ_BRIDGE, "up"]);
  await ipt(undefined, ["POSTROUTING", "-s", NDMZ_RANGE, "!", "-o", NDMZ_BRIDGE, "-j", "MASQUERADE"]);
}

/** The namespace's 100.127.x.y, from the network id (never .0.0/.0.1 or x.255). */
export function egressAddress(n: NetworkNames): string {
  const v = parseInt(n.id.slice(0, 4), 16);
  const x = 1 + ((v >> 8) % 254);
  const y = 1 + ((v & 0xff) % 254);
  return `100.127.${x}.${y}`;
}

export function egressLinks(n: NetworkNames): { node: string; ns: string } {
  return { node: `ve-${n.id}`, ns: `vo-${n.id}` };
}

export async function ensureEgress(n: NetworkNames, subnet: string): Promise<void> {
  await ensureNodeNdmz();
  const l = egressLinks(n);
  if (!linkExists(l.node)) await runHost("ip", ["link", "add", l.node, "type", "veth", "peer", "name", l.ns, "netns", n.namespace]);
  await runHost("ip", ["link", "set", l.node, "master", NDMZ_BRIDGE, "up"]);
  const inNs = (...a: string[]) => runHost("ip", ["-n", n.namespace, ...a]);
  await inNs("link", "set", l.ns, "up");
  await inNs("addr", "replace", `${egressAddress(n)}/16`, "dev", l.ns);
  await inNs("route", "replace", "default", "via", NDMZ_GATEWAY, "dev", l.ns, "metric", "100");
  await ipt(n.namespace, ["POSTROUTING", "-s", subnet, "-o", l.ns, "-j", "MASQUERADE"]);
}

export async function removeEgress(n: NetworkNames): Promise<void> {
  const l = egressLinks(n);
  if (linkExists(l.node)) await runHost("ip", ["link", "del", l.node]);
}
