/**
 * Outbound IPv4 for private networks (the reference's "ndmz"): the node keeps a bridge `br-ndmz`
 * (100.127.0.1/16) whose traffic it masquerades out of its own address; each network namespace
 * gets a veth into it with a 100.127.x.y address allocated for the network (egress-addresses.ts: recorded, never
 * shared), a default route
 * there (metric 100, so a public IP's default route wins) and masquerades its subnet behind that
 * address. VMs without a public IP so reach the node's network (the local grid's host, or the
 * internet on a real node) and nothing can reach them back unasked.
 *
 * @example
 * ```ts
 * await ensureEgress(networkNames(3, 7, "net"), "10.20.2.0/24", book);
 * ```
 */
import { runHost } from "../../hypervisor/host-command.ts";
import { linkExists } from "../../hypervisor/tap.ts";
import type { NetworkNames } from "../node-paths.ts";
import type { EgressAddressBook } from "./egress-addresses.ts";

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

export function egressLinks(n: NetworkNames): { node: string; ns: string } {
  return { node: `ve-${n.id}`, ns: `vo-${n.id}` };
}

/** The 100.127.x.y the namespace's egress link holds now, if any. */
async function currentAddress(n: NetworkNames, link: string): Promise<string | undefined> {
  const { stdout } = await runHost("ip", ["-n", n.namespace, "-4", "-o", "addr", "show", "dev", link]).catch(() => ({ stdout: "" }));
  return /inet (100\.127\.\d+\.\d+)\//.exec(stdout)?.[1];
}

export async function ensureEgress(n: NetworkNames, subnet: string, book: EgressAddressBook): Promise<void> {
  await ensureNodeNdmz();
  const l = egressLinks(n);
  if (!linkExists(l.node)) await runHost("ip", ["link", "add", l.node, "type", "veth", "peer", "name", l.ns, "netns", n.namespace]);
  await runHost("ip", ["link", "set", l.node, "master", NDMZ_BRIDGE, "up"]);
  const inNs = (...a: string[]) => runHost("ip", ["-n", n.namespace, ...a]);
  await inNs("link", "set", l.ns, "up");
  const current = await currentAddress(n, l.ns);
  const address = await book.allocate(n.id, current);
  if (current && current !== address) await inNs("addr", "del", `${current}/16`, "dev", l.ns);
  await inNs("addr", "replace", `${address}/16`, "dev", l.ns);
  await inNs("route", "replace", "default", "via", NDMZ_GATEWAY, "dev", l.ns, "metric", "100");
  await ipt(n.namespace, ["POSTROUTING", "-s", subnet, "-o", l.ns, "-j", "MASQUERADE"]);
}

export async function removeEgress(n: NetworkNames, book: EgressAddressBook): Promise<void> {
  const l = egressLinks(n);
  if (linkExists(l.node)) await runHost("ip", ["link", "del", l.node]);
  await book.release(n.id);
}
