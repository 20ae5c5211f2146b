/**
 * ip: a public IPv4 for a zmachine. The address is one of the farm IPs the node contract reserved
 * on chain (the chain hands them out from the farm's pool, so an address outside the pool or taken
 * by another contract never reaches a node); the n-th v4 ip workload of the deployment gets the
 * contract's n-th IP. The node puts the address on a veth from the VM's network namespace into the
 * node's public bridge (`br-pub`, the farm's segment with its gateway), routes the VM's traffic
 * (by source) via the farm gateway and maps the address 1:1 onto the VM's private IP (DNAT in, SNAT out),
 * so the VM is reachable at the public IP and leaves from it. IPv6 is refused: not configured here.
 *
 * @example
 * ```ts
 * managers.ip = ipManager({ chain, publicBridge: "br-pub", findNetwork });
 * // result: { ip: "185.69.0.10/24", gateway: "185.69.0.1", ip6: "", zmachine: "web" }
 * ```
 */
import { createHash } from "node:crypto";
import type { WorkloadOf } from "@zgrid/types";
import { runHost } from "../../hypervisor/host-command.ts";
import { linkExists } from "../../hypervisor/tap.ts";
import type { WorkloadContext, WorkloadManager } from "../../engine/workload-manager.ts";
import type { NetworkResult } from "../network/network-manager.ts";

export interface IpDeps {
  chain: { getContract(id: number): Promise<{ publicIps: Array<{ ip: string; gateway: string }> }> };
  /** The node's bridge on the farm's public segment. */
  publicBridge: string;
  findNetwork(ctx: WorkloadContext, name: string): NetworkResult | undefined;
}

import type { IpResult } from "@zgrid/types";
export type { IpResult };

type Ip = WorkloadOf<"ip">;

/** Host-side and namespace-side veth names of an ip workload. */
export function ipLinkNames(workloadId: string): { host: string; ns: string } {
  const h = createHash("sha256").update(workloadId).digest("hex").slice(0, 8);
  return { host: `pu-${h}`, ns: `pn-${h}` };
}

/** The namespace routing table of an ip workload's source route. */
function routeTable(workloadId: string): string {
  return String(1000 + (parseInt(createHash("sha256").update(workloadId).digest("hex").slice(0, 6), 16) % 30000));
}

interface Binding { ns: string; publicIp: string; privateIp: string; link: string }

const nat = (b: Binding): string[][] => [
  ["PREROUTING", "-d", b.publicIp, "-j", "DNAT", "--to-destination", b.privateIp],
  ["POSTROUTING", "-s", b.privateIp, "-o", b.link, "-j", "SNAT", "--to-source", b.publicIp],
];

async function natRules(b: Binding, add: boolean): Promise<void> {
  for (const rule of nat(b)) {
    const present = await runHost("ip", ["netns", "exec", b.ns, "iptables", "-t", "nat", "-C", ...rule]).then(() => true, () => false);
    if (add && !present) await runHost("ip", ["netns", "exec", b.ns, "iptables", "-t", "nat", "-A", ...rule]);
    if (!add && present) await runHost("ip", ["netns", "exec", b.ns, "iptables", "-t", "nat", "-D", ...rule]);
  }
}

export function ipManager(deps: IpDeps): WorkloadManager<Ip> {
  /** What the workload maps: the contract's address for it and the zmachine using it. */
  const resolve = async (ctx: WorkloadContext, w: Ip) => {
    const v4 = ctx.deployment.workloads.filter((x) => x.type === "ip" && (x.data as Ip["data"]).v4).map((x) => x.name);
    const contract = await deps.chain.getContract(ctx.deployment.contract_id);
    const index = v4.indexOf(w.name);
    const reserved = contract.publicIps[index];
    if (!reserved) {
      throw new Error(`the node contract ${ctx.deployment.contract_id} reserves ${contract.publicIps.length} public IPs but the deployment needs ${v4.length}: create the contract with publicIps: ${v4.length}`);
    }
    const vm = ctx.deployment.workloads.find((x): x is WorkloadOf<"zmachine"> => x.type === "zmachine" && x.data.network.public_ip === w.name);
    const nic = vm?.data.network.interfaces[0];
    const net = nic ? deps.findNetwork(ctx, nic.network) : undefined;
    if (nic && !net) throw new Error(`network '${nic.network}' of zmachine '${vm!.name}' is not ready on this node`);
    const link = ipLinkNames(ctx.workloadId);
    const binding: Binding | undefined = net && nic ? { ns: net.namespace, publicIp: reserved.ip.replace(/\/\d+$/, ""), privateIp: nic.ip, link: link.ns } : undefined;
    return { reserved, vm, binding, link };
  };
  return {
    async provision(ctx, w) {
      if (w.data.v6) throw new Error("public IPv6 is not configured on this node (publicConfig.ip6): deploy with v6: false");
      const { reserved, vm, binding, link } = await resolve(ctx, w);
      if (binding) {
        if (!linkExists(deps.publicBridge)) throw new Error(`this node has no public bridge ${deps.publicBridge}: it cannot host public IPs`);
        if (!linkExists(link.host)) await runHost("ip", ["link", "add", link.host, "type", "veth", "peer", "name", link.ns, "netns", binding.ns]);
        await runHost("ip", ["link", "set", link.host, "master", deps.publicBridge, "up"]);
        const inNs = (...a: string[]) => runHost("ip", ["-n", binding.ns, ...a]);
        await inNs("link", "set", link.ns, "up");
        await inNs("addr", "replace", reserved.ip, "dev", link.ns);
        // Only this VM leaves through the farm gateway (source routing); the namespace's other VMs
        // keep the ndmz default route.
        const table = routeTable(ctx.workloadId);
        await inNs("route", "replace", "default", "via", reserved.gateway, "dev", link.ns, "onlink", "table", table);
        // main first for everything but its default route (the private network, the segment), then table
        const rules = (await inNs("rule", "show", "from", binding.privateIp)).stdout;
        if (!rules.includes("suppress_prefixlength")) await inNs("rule", "add", "from", binding.privateIp, "lookup", "main", "suppress_prefixlength", "0", "priority", "99");
        if (!rules.includes(`lookup ${table}`)) await inNs("rule", "add", "from", binding.privateIp, "lookup", table, "priority", "100");
        await natRules(binding, true);
        ctx.log.info({ ip: reserved.ip, zmachine: vm?.name }, "public ip ready");
      }
      return {
        ip: reserved.ip, gateway: reserved.gateway, ip6: "", zmachine: vm?.name ?? "",
        ...(binding ? { namespace: binding.ns, private_ip: binding.privateIp } : {}),
      } satisfies IpResult;
    },
    async deprovision(ctx, w) {
      const link = ipLinkNames(ctx.workloadId);
      const r = w.result?.data as IpResult | undefined;
      if (r?.namespace && r.private_ip) {
        await runHost("ip", ["-n", r.namespace, "rule", "del", "from", r.private_ip, "lookup", routeTable(ctx.workloadId)]).catch(() => undefined);
        await runHost("ip", ["-n", r.namespace, "rule", "del", "from", r.private_ip, "lookup", "main", "suppress_prefixlength", "0"]).catch(() => undefined);
        await natRules({ ns: r.namespace, publicIp: r.ip.replace(/\/\d+$/, ""), privateIp: r.private_ip, link: link.ns }, false).catch(() => undefined);
      }
      if (linkExists(link.host)) await runHost("ip", ["link", "del", link.host]);
    },
    async adopt(ctx, w) {
      const r = await resolve(ctx, w).catch(() => undefined);
      return !!r && (!r.binding || linkExists(r.link.host));
    },
  };
}
