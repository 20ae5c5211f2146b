/**
 * Private networks. A network is one ip range (/16); each node it spans holds a /24 of it
 * (third octet = node id) in its own contract, so VMs deployed later on that node join it and
 * removing one VM never removes the network. Cross-node WireGuard peering is not wired yet (issue
 * 8): the parts of one network on different nodes do not reach each other.
 *
 * @example
 * ```ts
 * const part = await grid.networks.ensure(tx, { name: "net", nodeId: 3, nodeTwinId: 9 });
 * part.subnet; // "10.147.3.0/24"
 * ```
 */
import { createHash, randomBytes } from "node:crypto";
import type { Bus } from "@zgrid/bus";
import type { Deployment } from "@zgrid/types";
import { InputError } from "../errors/client-errors.ts";
import type { ContractService } from "../contracts/contract-service.ts";
import type { DeployTransaction, ProgressFn } from "../deploy/deployer.ts";
import { encodeMetadata } from "../models/contract-metadata.ts";

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

  constructor(o: { contracts: ContractService; bus: () => Promise<Bus> }) {
    this.contracts = o.contracts;
    this.bus = o.bus;
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
    const existing = (await this.list()).find((n) => n.name === o.name);
    const part = existing?.parts.find((p) => p.nodeId === o.nodeId);
    const ipRange = existing?.ipRange || o.ipRange || defaultIpRange(o.name);
    if (o.ipRange && existing && existing.ipRange !== o.ipRange) {
      throw new InputError(`network '${o.name}' already exists with ip range ${existing.ipRange}, not ${o.ipRange}`, { hint: "use another name or remove the network first (`zgrid network rm`)" });
    }
    if (part) return { name: o.name, nodeId: o.nodeId, contractId: part.contractId, ipRange, subnet: part.subnet, created: false };
    const subnet = subnetFor(ipRange, o.nodeId);
    o.onProgress?.(`network '${o.name}': adding ${subnet} on node ${o.nodeId}`);
    const workload = {
      version: 0, name: o.name, type: "network",
      data: { ip_range: ipRange, subnet, wireguard_private_key: randomBytes(32).toString("base64"), wireguard_listen_port: 20000 + randomBytes(2).readUInt16BE() % 10000, peers: [] },
    };
    const d: Deployment = await tx.deploy({
      nodeId: o.nodeId, nodeTwinId: o.nodeTwinId, workloads: [workload],
      metadata: encodeMetadata({ kind: "network", name: o.name, network: ipRange, ...(o.project ? { project: o.project } : {}) }),
      ...(o.onProgress ? { onProgress: o.onProgress } : {}), ...(o.signal ? { signal: o.signal } : {}),
    });
    return { name: o.name, nodeId: o.nodeId, contractId: d.contract_id, ipRange, subnet, created: true };
  }

  /** A free host address in the part's /24 (from .2), asking the node which are taken. */
  async freeIp(part: NetworkPart, nodeTwinId: number, alsoTaken: string[] = []): Promise<string> {
    const bus = await this.bus();
    const used = new Set([...(await bus.request<string[]>(nodeTwinId, "zos.network.list_private_ips", { network_name: part.name }, { timeout: 10_000 })), ...alsoTaken]);
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
