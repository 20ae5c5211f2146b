/**
 * Private networks. A network is one ip range (/16); each node it spans holds a /24 of it
 * (third octet = node id) in its own contract, so VMs deployed later on that node join it and
 * removing one VM never removes the network. Parts on several nodes are peered with WireGuard
 * (every part lists all the others as peers; planned with @zgrid/zos's planNetwork).
 *
 * @example
 * ```ts
 * const part = await grid.networks.ensure(tx, { name: "net", nodeId: 3, nodeTwinId: 9 });
 * part.subnet; // "10.147.3.0/24"
 * ```
 */
import { createHash, randomBytes } from "node:crypto";
import type { Bus } from "@zgrid/bus";
import type { GridClient } from "@zgrid/chain";
import { planNetwork, type NetworkWorkloadData } from "@zgrid/types";
import { InputError } from "../errors/client-errors.ts";
import type { ContractService } from "../contracts/contract-service.ts";
import type { DeployTransaction, ProgressFn } from "../deploy/deployer.ts";
import { encodeMetadata } from "../models/contract-metadata.ts";
import { nodeClient } from "../nodes/node-client.ts";

export interface NetworkPart {
  name: string;
  nodeId: number;
  contractId: number;
  ipRange: string;
  subnet: string;
  /** True when this call made the part. */
  created: boolean;
}

export interface NetworkInfo { name: string; ipRange: string; parts: Array<{ nodeId: number; contractId: number; subnet: string; project?: string }> }

/** The /16 a network name gets unless one is given: 10.(100..227).0.0/16. */
export function defaultIpRange(name: string): string {
  const h = createHash("sha256").update(name).digest()[0]! % 128;
  return `10.${100 + h}.0.0/16`;
}

export function subnetFor(ipRange: string, nodeId: number): string {
  const m = /^(\d+)\.(\d+)\.0\.0\/16$/.exec(ipRange);
  if (!m) throw new InputError(`network ip range ${ipRange} must be a /16 like 10.20.0.0/16`, { details: { ipRange } });
  if (nodeId > 254) throw new InputError(`node ${nodeId}: only nodes 1..254 can hold a network part here`);
  return `${m[1]}.${m[2]}.${nodeId}.0/24`;
}

export class NetworkService {
  private readonly contracts: ContractService;
  private readonly bus: () => Promise<Bus>;
  private readonly chain: GridClient;

  constructor(o: { contracts: ContractService; bus: () => Promise<Bus>; chain: GridClient }) {
    this.contracts = o.contracts;
    this.bus = o.bus;
    this.chain = o.chain;
  }

  async list(): Promise<NetworkInfo[]> {
    const byName = new Map<string, NetworkInfo>();
    for (const c of await this.contracts.list()) {
      if (c.metadata?.kind !== "network") continue;
      const ipRange = c.metadata.network ?? "";
      const n = byName.get(c.metadata.name) ?? { name: c.metadata.name, ipRange, parts: [] };
      n.parts.push({ nodeId: c.nodeId, contractId: c.id, subnet: ipRange ? subnetFor(ipRange, c.nodeId) : "", ...(c.metadata.project ? { project: c.metadata.project } : {}) });
      byName.set(n.name, n);
    }
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The network's part on the node, deploying it (in `tx`, so it rolls back) when missing. */
  async ensure(tx: DeployTransaction, o: { name: string; nodeId: number; nodeTwinId: number; ipRange?: string; project?: string; onProgress?: ProgressFn; signal?: AbortSignal }): Promise<NetworkPart> {
    const parts = await this.converge(tx, { ...o, nodes: [{ nodeId: o.nodeId, nodeTwinId: o.nodeTwinId }] });
    return parts.find((p) => p.nodeId === o.nodeId)!;
  }

  /**
   * Makes the network span at least `nodes`: a part (with its /24) on each new node, and every
   * part's WireGuard peers set to all the others (existing parts are updated in place), so VMs on
   * different nodes reach each other. New parts are made in `tx` (rolled back on failure).
   */
  async converge(tx: DeployTransaction, o: { name: string; nodes: Array<{ nodeId: number; nodeTwinId: number }>; ipRange?: string; project?: string; onProgress?: ProgressFn; signal?: AbortSignal }): Promise<NetworkPart[]> {
    const existing = (await this.list()).find((n) => n.name === o.name);
    const ipRange = existing?.ipRange || o.ipRange || defaultIpRange(o.name);
    if (o.ipRange && existing && existing.ipRange !== o.ipRange) {
      throw new InputError(`network '${o.name}' already exists with ip range ${existing.ipRange}, not ${o.ipRange}`, { hint: "use another name or remove the network first (`zgrid network rm`)" });
    }
    const bus = await this.bus();
    const current = await Promise.all((existing?.parts ?? []).map(async (p) => {
      const nodeTwinId = (await this.chain.getNode(p.nodeId)).twinId;
      const d = await nodeClient(bus, nodeTwinId).get(p.contractId, { timeout: 10_000 });
      const w = d.workloads.find((x) => x.type === "network" && x.name === o.name);
      return { nodeId: p.nodeId, nodeTwinId, contractId: p.contractId, deployment: d, data: w?.data as NetworkWorkloadData | undefined };
    }));
    const fresh = o.nodes.filter((n) => !current.some((c) => c.nodeId === n.nodeId));
    if (fresh.length === 0 && current.every((c) => c.data)) return current.map((c) => ({ name: o.name, nodeId: c.nodeId, contractId: c.contractId, ipRange, subnet: c.data!.subnet, created: false }));
    const all = [...current.map((c) => ({ nodeId: c.nodeId, nodeTwinId: c.nodeTwinId })), ...fresh];
    const inputs = await Promise.all(all.map(async (n) => {
      const c = current.find((x) => x.nodeId === n.nodeId)?.data;
      return {
        nodeId: n.nodeId, endpoint: await this.endpointOf(n.nodeId), subnet: c?.subnet ?? subnetFor(ipRange, n.nodeId),
        listenPort: c?.wireguard_listen_port ?? 20000 + (randomBytes(2).readUInt16BE() % 10000), ...(c ? { privateKey: c.wireguard_private_key } : {}),
      };
    }));
    const plan = planNetwork({ ipRange, nodes: inputs });
    const parts: NetworkPart[] = [];
    for (const n of all) {
      const planned = plan.nodes.find((p) => p.nodeId === n.nodeId)!;
      const workload = { name: o.name, type: "network", data: planned.workload };
      const cur = current.find((c) => c.nodeId === n.nodeId);
      if (!cur) {
        o.onProgress?.(`network '${o.name}': adding ${planned.subnet} on node ${n.nodeId}`);
        const d = await tx.deploy({
          nodeId: n.nodeId, nodeTwinId: n.nodeTwinId, workloads: [{ version: 0, ...workload }],
          metadata: encodeMetadata({ kind: "network", name: o.name, network: ipRange, ...(o.project ? { project: o.project } : {}) }),
          ...(o.onProgress ? { onProgress: o.onProgress } : {}), ...(o.signal ? { signal: o.signal } : {}),
        });
        parts.push({ name: o.name, nodeId: n.nodeId, contractId: d.contract_id, ipRange, subnet: planned.subnet, created: true });
      } else {
        if (JSON.stringify(cur.data?.peers ?? []) !== JSON.stringify(planned.workload.peers)) {
          o.onProgress?.(`network '${o.name}': peering node ${n.nodeId} with ${planned.workload.peers.length} other node(s)`);
          await tx.update({ nodeId: n.nodeId, nodeTwinId: n.nodeTwinId, current: cur.deployment, workloads: cur.deployment.workloads.map((w) => (w.name === o.name ? workload : { name: w.name, type: w.type, data: w.data })), ...(o.onProgress ? { onProgress: o.onProgress } : {}), ...(o.signal ? { signal: o.signal } : {}) });
        }
        parts.push({ name: o.name, nodeId: n.nodeId, contractId: cur.contractId, ipRange, subnet: planned.subnet, created: false });
      }
    }
    return parts;
  }

  /** Where other nodes reach the node's WireGuard: its public IPv4, else its host (local grid: 127.0.0.1). */
  private async endpointOf(nodeId: number): Promise<string> {
    const node = await this.chain.getNode(nodeId);
    const ip4 = node.publicConfig.ip4.split("/")[0];
    return ip4 || node.interfaces.flatMap((i) => i.ips).map((ip) => ip.split("/")[0]!).find((ip) => /^\d+\.\d+\.\d+\.\d+$/.test(ip)) || "127.0.0.1";
  }

  /** A free host address in the part's /24 (from .2), asking the node which are taken. */
  async freeIp(part: NetworkPart, nodeTwinId: number, alsoTaken: string[] = []): Promise<string> {
    const bus = await this.bus();
    const used = new Set([...(await nodeClient(bus, nodeTwinId).privateIps(part.name, { timeout: 10_000 })), ...alsoTaken]);
    const prefix = part.subnet.split(".").slice(0, 3).join(".");
    for (let i = 2; i < 255; i++) if (!used.has(`${prefix}.${i}`)) return `${prefix}.${i}`;
    throw new InputError(`network '${part.name}' has no free address left on node ${part.nodeId}`);
  }

  /** Cancels every part of the network. */
  async delete(name: string, usedBy: string[] = []): Promise<number[]> {
    if (usedBy.length) throw new InputError(`network '${name}' is used by ${usedBy.join(", ")}`, { hint: "remove those VMs first (`zgrid vm rm <name>`)" });
    const n = (await this.list()).find((x) => x.name === name);
    if (!n) return [];
    for (const p of n.parts) await this.contracts.cancel(p.contractId);
    return n.parts.map((p) => p.contractId);
  }
}
