/**
 * ip: a public IP for a zmachine, held by the VM itself on a NIC of its own. The IPv4 is one of the
 * farm IPs the node contract reserved on chain (the chain hands them out from the farm's pool, so
 * an address outside the pool or taken by another contract never reaches a node); the n-th v4 ip
 * workload of the deployment gets the contract's n-th IP. IPv6 (v6: true) comes from the farm's v6
 * range the node is configured with (publicConfig.ip6: the node's own address and prefix there),
 * the interface id derived from the workload id. The zmachine using it gets a second NIC on the
 * node's public bridge (`br-pub`, the farm's segment with its gateway) with these addresses and
 * its default route via the farm gateway (zmachine-manager.ts); the VM keeps its private network
 * through its first NIC. Nothing is NATed: software in the VM sees and binds its public address.
 *
 * @example
 * ```ts
 * managers.ip = ipManager({ chain, publicBridge: "br-pub", ip6: { cidr: "fd85:69::11/64", gateway: "fd85:69::1" }, findNetwork });
 * // result: { ip: "185.69.0.10/24", gateway: "185.69.0.1", ip6: "fd85:69::3a1f:…/64", gateway6: "fd85:69::1", bridge: "br-pub", zmachine: "web" }
 * ```
 */
import { createHash } from "node:crypto";
import type { IpResult, WorkloadOf } from "@zgrid/types";
import { runHost } from "../../hypervisor/host-command.ts";
import { linkExists } from "../../hypervisor/tap.ts";
import type { WorkloadContext, WorkloadManager } from "../../engine/workload-manager.ts";
import type { NetworkResult } from "../network/network-manager.ts";

export interface IpDeps {
  chain: { getContract(id: number): Promise<{ publicIps: Array<{ ip: string; gateway: string }> }> };
  /** The node's bridge on the farm's public segment. */
  publicBridge: string;
  /** The node's address in the farm's IPv6 range (CIDR, prefix ≤ 64) and the v6 gateway; none: no v6. */
  ip6?: { cidr: string; gateway: string };
  findNetwork(ctx: WorkloadContext, name: string): NetworkResult | undefined;
}

export type { IpResult };

/** The workload's address in the node's v6 range: the prefix and 64 bits from the workload id. */
export function ipv6For(cidr: string, workloadId: string): string {
  const [addr, len] = cidr.split("/");
  const prefix = Number(len);
  if (!addr || !Number.isInteger(prefix) || prefix > 64 || prefix < 8) throw new Error(`publicConfig.ip6 ${cidr}: an IPv6 address with a prefix of at most /64`);
  const groups = expand6(addr).slice(0, 4);
  const bits = 64 - prefix; // clear host bits of the first 64
  let hi = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
  hi = (hi >> BigInt(bits)) << BigInt(bits);
  const h = createHash("sha256").update(workloadId).digest();
  const id = h.readBigUInt64BE(0) | 0x1000n; // never ::0..::fff (router, node addresses)
  const all = (hi << 64n) | id;
  const out = Array.from({ length: 8 }, (_, i) => ((all >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  // canonical (compressed) text, as `ip addr` prints it
  return `${new URL(`http://[${out.join(":")}]/`).hostname.slice(1, -1)}/64`;
}

function expand6(a: string): string[] {
  const [l, r] = a.includes("::") ? a.split("::") : [a, undefined];
  const left = l ? l.split(":") : [];
  const right = r !== undefined && r !== "" ? r.split(":") : [];
  if (r === undefined) return left;
  return [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
}

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
  /** The contract's v4 address for the workload. */
  const resolve = async (ctx: WorkloadContext, w: Ip) => {
    const v4 = ctx.deployment.workloads.filter((x) => x.type === "ip" && (x.data as Ip["data"]).v4).map((x) => x.name);
    const contract = await deps.chain.getContract(ctx.deployment.contract_id);
    const reserved = contract.publicIps[v4.indexOf(w.name)];
    if (!reserved) {
      throw new Error(`the node contract ${ctx.deployment.contract_id} reserves ${contract.publicIps.length} public IPs but the deployment needs ${v4.length}: create the contract with publicIps: ${v4.length}`);
    }
    return { reserved };
  };
  return {
    async provision(ctx, w) {
      if (w.data.v6 && !deps.ip6) throw new Error("this node has no IPv6 public range (publicConfig.ip6): deploy with v6: false");
      if (!linkExists(deps.publicBridge)) throw new Error(`this node has no public bridge ${deps.publicBridge}: it cannot host public IPs`);
      const v4 = w.data.v4 ? await resolve(ctx, w) : undefined;
      const vm = ctx.deployment.workloads.find((x): x is WorkloadOf<"zmachine"> => x.type === "zmachine" && x.data.network.public_ip === w.name);
      const ip6 = w.data.v6 && deps.ip6 ? ipv6For(deps.ip6.cidr, ctx.workloadId) : "";
      ctx.log.info({ ip: v4?.reserved.ip, ip6, zmachine: vm?.name }, "public ip reserved");
      return {
        ip: v4?.reserved.ip ?? "", gateway: v4?.reserved.gateway ?? "", ip6, ...(ip6 ? { gateway6: deps.ip6!.gateway } : {}),
        bridge: deps.publicBridge, zmachine: vm?.name ?? "",
      } satisfies IpResult;
    },
    async deprovision(ctx, w) {
      // The address leaves with the zmachine's NIC; records from before it (1:1 NAT) are cleaned here.
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
      return !w.data.v4 || !!(await resolve(ctx, w).catch(() => undefined));
    },
  };
}
