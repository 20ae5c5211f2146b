/**
 * network, the node-local part: per (twin, network) a bridge the VMs' taps join, and a network
 * namespace holding the subnet's gateway (.1) on a veth into the bridge, with forwarding on. The
 * cross-node WireGuard mesh plugs into that namespace (networking issue). Idempotent; deleting
 * removes every interface and the namespace.
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

export interface NetworkResult {
  bridge: string;
  namespace: string;
  gateway: string;
  subnet: string;
  prefix: number;
  ip_range: string;
}

const ip = (...args: string[]) => runHost("ip", args);
const inNs = (ns: string, ...args: string[]) => runHost("ip", ["netns", "exec", ns, ...args]);

/** The gateway of a /24 subnet: its .1. */
export function gatewayOf(subnet: string): string {
  return subnet.replace(/\.\d+\/\d+$/, ".1");
}

export function networkManager(o: { nodeId: number }): WorkloadManager<WorkloadOf<"network">> {
  return {
    async provision(ctx, w) {
      const n = networkNames(o.nodeId, ctx.deployment.twin_id, w.name);
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
      ctx.log.info({ bridge: n.bridge, namespace: n.namespace, gateway }, "network ready");
      return { bridge: n.bridge, namespace: n.namespace, gateway, subnet: w.data.subnet, prefix: 24, ip_range: w.data.ip_range } satisfies NetworkResult;
    },
    async update(ctx, w) {
      // Peers and keys belong to the mesh (networking issue); the local part only needs the subnet.
      return this.provision(ctx, w);
    },
    async deprovision(ctx, w) {
      const n = networkNames(o.nodeId, ctx.deployment.twin_id, w.name);
      if (linkExists(n.vethHost)) await ip("link", "del", n.vethHost);
      if (existsSync(`/run/netns/${n.namespace}`)) await ip("netns", "del", n.namespace);
      if (linkExists(n.bridge)) await ip("link", "del", n.bridge);
    },
    async adopt(ctx, w) {
      const n = networkNames(o.nodeId, ctx.deployment.twin_id, w.name);
      return linkExists(n.bridge) && existsSync(`/run/netns/${n.namespace}`);
    },
  };
}
