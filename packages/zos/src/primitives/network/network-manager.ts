/**
 * network: per (twin, network) on this node a bridge the VMs' taps join, and a network namespace
 * holding the subnet's gateway (.1) on a veth into the bridge, with forwarding on, and the
 * WireGuard interface `w-<id>` of the network (its UDP socket on the node's own address, see
 * wireguard-link.ts) with the workload's key, port and peers, and a route per peer's allowed IPs;
 * outbound traffic leaves through the node's ndmz (egress.ts).
 * Idempotent; deleting removes every interface, the wireguard-go process and the namespace.
 *
 * @example
 * ```ts
 * await networkManager({ nodeId: 3 }).provision(ctx, w); // { bridge: "b-5f1c9a2e", gateway: "10.20.2.1", subnet: "10.20.2.0/24", … }
 * ```
 */
import { existsSync } from "node:fs";
import type { WorkloadOf } from "@zgrid/types";
import { runHost } from "../../hypervisor/host-command.ts";
import { linkExists } from "../../hypervisor/tap.ts";
import type { WorkloadManager } from "../../engine/workload-manager.ts";
import { networkNames } from "../node-paths.ts";
import { ensureEgress, removeEgress } from "./egress.ts";
import { EgressAddressBook } from "./egress-addresses.ts";
import { configureWireguard, deleteWireguardLink, ensureWireguardLink, linkInNamespace, wireguardAlive } from "./wireguard-link.ts";

import type { NetworkResult } from "@zgrid/types";
export type { NetworkResult };

/** Whether a UDP port is bound in this (the node's) namespace. */
async function udpPortInUse(port: number): Promise<boolean> {
  const { stdout } = await runHost("ss", ["-Hlun", `sport = :${port}`]);
  return stdout.trim() !== "";
}

/** wg interface, peers and routes: exactly the workload's. */
async function ensureMesh(ns: string, wg: string, w: WorkloadOf<"network">): Promise<void> {
  if (!(await linkInNamespace(ns, wg)) && (await udpPortInUse(w.data.wireguard_listen_port))) {
    throw new Error(`wireguard_listen_port ${w.data.wireguard_listen_port} is already used on this node: pick another port`);
  }
  await ensureWireguardLink(wg, ns);
  await configureWireguard(wg, ns, {
    privateKey: w.data.wireguard_private_key,
    listenPort: w.data.wireguard_listen_port,
    peers: w.data.peers.map((p) => ({ publicKey: p.wireguard_public_key, allowedIps: p.allowed_ips, endpoint: p.endpoint })),
  });
  await inNs(ns, "ip", "link", "set", wg, "up");
  const wanted = new Set(w.data.peers.flatMap((p) => p.allowed_ips).filter((a) => a !== w.data.subnet));
  const { stdout } = await inNs(ns, "ip", "-4", "route", "show", "dev", wg);
  for (const line of stdout.split("\n").map((l) => l.trim().split(" ")[0] ?? "").filter(Boolean)) {
    if (!wanted.has(line)) await inNs(ns, "ip", "route", "del", line, "dev", wg).catch(() => undefined);
  }
  for (const dst of wanted) await inNs(ns, "ip", "route", "replace", dst, "dev", wg);
}

const ip = (...args: string[]) => runHost("ip", args);
const inNs = (ns: string, ...args: string[]) => runHost("ip", ["netns", "exec", ns, ...args]);

/** The gateway of a /24 subnet: its .1. */
export function gatewayOf(subnet: string): string {
  return subnet.replace(/\.\d+\/\d+$/, ".1");
}

/** `scope`: the node's account, so nodes of different grids on one machine never share names. */
export function networkManager(o: { nodeId: number; scope?: string; egressAddresses?: EgressAddressBook }): WorkloadManager<WorkloadOf<"network">> {
  const book = o.egressAddresses ?? new EgressAddressBook();
  return {
    async provision(ctx, w) {
      const n = networkNames(o.nodeId, ctx.deployment.twin_id, w.name, o.scope);
      const gateway = gatewayOf(w.data.subnet);
      if (!linkExists(n.bridge)) await ip("link", "add", n.bridge, "type", "bridge");
      await ip("link", "set", n.bridge, "up");
      if (!existsSync(`/run/netns/${n.namespace}`)) await ip("netns", "add", n.namespace);
      if (!linkExists(n.vethHost)) await ip("link", "add", n.vethHost, "type", "veth", "peer", "name", n.vethNs, "netns", n.namespace);
      await ip("link", "set", n.vethHost, "master", n.bridge, "up");
      await inNs(n.namespace, "ip", "link", "set", "lo", "up");
      await inNs(n.namespace, "ip", "link", "set", n.vethNs, "up");
      await inNs(n.namespace, "ip", "addr", "replace", `${gateway}/24`, "dev", n.vethNs);
      await inNs(n.namespace, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
      const wg = `w-${n.id}`;
      await ensureMesh(n.namespace, wg, w);
      await ensureEgress(n, w.data.subnet, book);
      ctx.log.info({ bridge: n.bridge, namespace: n.namespace, gateway, peers: w.data.peers.length }, "network ready");
      return {
        bridge: n.bridge, namespace: n.namespace, gateway, subnet: w.data.subnet, prefix: 24, ip_range: w.data.ip_range,
        wireguard: wg, listen_port: w.data.wireguard_listen_port,
      } satisfies NetworkResult;
    },
    async update(ctx, w) {
      // Key, port, peers and routes are re-applied in place (wg syncconf): VMs stay connected.
      return this.provision(ctx, w);
    },
    async deprovision(ctx, w) {
      const n = networkNames(o.nodeId, ctx.deployment.twin_id, w.name, o.scope);
      // Every step runs even when one before failed (a half-provisioned network, or a link that
      // vanished with its peer in between, answers "Cannot find device"): a failed step must never
      // leave the namespace behind (found by the deployment fuzz). Only what is still there fails.
      const errors: unknown[] = [];
      const step = async (f: () => Promise<unknown>): Promise<void> => {
        await f().catch((e: unknown) => void errors.push(e));
      };
      if (existsSync(`/run/netns/${n.namespace}`)) await step(() => deleteWireguardLink(`w-${n.id}`, n.namespace));
      await step(() => removeEgress(n, book));
      if (linkExists(n.vethHost)) await step(() => ip("link", "del", n.vethHost));
      if (existsSync(`/run/netns/${n.namespace}`)) await step(() => ip("netns", "del", n.namespace));
      if (linkExists(n.bridge)) await step(() => ip("link", "del", n.bridge));
      if (errors.length > 0 && (existsSync(`/run/netns/${n.namespace}`) || linkExists(n.bridge) || linkExists(n.vethHost))) throw errors[0];
      if (errors.length > 0) ctx.log.debug({ namespace: n.namespace, errors: errors.length }, "network removed; some of its parts were already gone");
    },
    async adopt(ctx, w) {
      // Enter the namespace for real (a stale /run/netns file of another mount namespace fails
      // here), then re-apply everything idempotently: a missing link, route or a dead
      // wireguard-go is re-created in place, the VMs on the bridge stay up.
      const n = networkNames(o.nodeId, ctx.deployment.twin_id, w.name, o.scope);
      if (!existsSync(`/run/netns/${n.namespace}`) || !linkExists(n.bridge)) return false;
      const entered = await runHost("ip", ["netns", "exec", n.namespace, "true"]).then(() => true, () => false);
      if (!entered) return false;
      if (!(await linkInNamespace(n.namespace, `w-${n.id}`)) || !(await wireguardAlive(`w-${n.id}`))) {
        ctx.log.warn({ namespace: n.namespace }, "network's WireGuard link is gone: re-creating it");
      }
      await this.provision(ctx, w);
      return true;
    },
    async alive(ctx, w) {
      const n = networkNames(o.nodeId, ctx.deployment.twin_id, w.name, o.scope);
      return existsSync(`/run/netns/${n.namespace}`) && linkExists(n.bridge) && (await wireguardAlive(`w-${n.id}`));
    },
  };
}
