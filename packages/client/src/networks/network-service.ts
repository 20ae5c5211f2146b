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
import { generateWgKeyPair, planNetwork, type Deployment, type NetworkPlan, type NetworkWorkloadData, type UserAccessInput } from "@zgrid/types";
import { InputError, NotFoundError } from "../errors/client-errors.ts";
import type { ContractService } from "../contracts/contract-service.ts";
import { DeployTransaction, type DeployContext, type ProgressFn } from "../deploy/deployer.ts";
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

/** The user's machine in a network: its wg-quick file and where it connects. */
export interface NetworkAccess {
  network: string;
  /** True when the access peer was taken out (the other fields are then empty). */
  removed: boolean;
  /** The part the user's machine connects to. */
  nodeId: number;
  ipRange: string;
  /** The user's /24 (x.y.255.0/24: node parts use x.y.<node id>.0/24) and address in it. */
  subnet: string;
  address: string;
  publicKey: string;
  endpoint: string;
  /** wg-quick file with the user's private key. */
  config: string;
}

export interface ConvergeOptions {
  name: string; nodes: Array<{ nodeId: number; nodeTwinId: number }>; ipRange?: string; project?: string; onProgress?: ProgressFn; signal?: AbortSignal;
  /** Parts on these nodes (dead ones) are neither read nor updated nor peered; their contracts stay for the caller to cancel. */
  skipNodes?: number[];
  /** How long a node may take to provision its part (default the deployer's, 180 s). */
  timeoutMs?: number;
  /** New parts carry the owner's consent to be re-placed (see contract-metadata `movable`): a movable VM's part goes with it. */
  movable?: boolean;
}

interface LoadedPart { nodeId: number; nodeTwinId: number; contractId: number; deployment: Deployment; data: NetworkWorkloadData | undefined }

/** The user access subnet of a network: the last /24 of its /16 (node ids stop at 254). */
export function accessSubnet(ipRange: string): string {
  return subnetFor(ipRange, 1).replace(/\.1\.0\/24$/, ".255.0/24");
}

/** The access peer the parts hold: a peer without endpoint whose subnet is no part's. */
function accessPeerOf(parts: LoadedPart[]): UserAccessInput | undefined {
  const subnets = new Set(parts.map((p) => p.data?.subnet));
  for (const p of parts) {
    const peer = p.data?.peers.find((x) => x.endpoint === "" && !subnets.has(x.subnet));
    if (peer) return { nodeId: p.nodeId, subnet: peer.subnet, publicKey: peer.wireguard_public_key };
  }
  return undefined;
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

  private readonly ctx: DeployContext | undefined;

  constructor(o: { contracts: ContractService; bus: () => Promise<Bus>; chain: GridClient; ctx?: DeployContext }) {
    this.ctx = o.ctx;
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
  async ensure(tx: DeployTransaction, o: { name: string; nodeId: number; nodeTwinId: number; ipRange?: string; project?: string; onProgress?: ProgressFn; signal?: AbortSignal; skipNodes?: number[]; timeoutMs?: number; movable?: boolean }): Promise<NetworkPart> {
    const parts = await this.converge(tx, { ...o, nodes: [{ nodeId: o.nodeId, nodeTwinId: o.nodeTwinId }] });
    return parts.find((p) => p.nodeId === o.nodeId)!;
  }

  /**
   * Makes the network span at least `nodes` (minus `removeNodes`): a part (with its /24) on each new
   * node, and every part's WireGuard peers set to exactly the others (existing parts are updated in
   * place), so VMs on different nodes reach each other and a removed node leaves no stale peer. The
   * user's access peer (see `access`) is kept unless `access` says otherwise. New parts are made in
   * `tx` (rolled back on failure).
   */
  async converge(tx: DeployTransaction, o: ConvergeOptions): Promise<NetworkPart[]> {
    return (await this.apply(tx, o)).parts;
  }

  private async apply(tx: DeployTransaction, o: ConvergeOptions & { access?: UserAccessInput | null; removeNodes?: number[] }): Promise<{ parts: NetworkPart[]; plan: NetworkPlan }> {
    const existing = (await this.list()).find((n) => n.name === o.name);
    const ipRange = existing?.ipRange || o.ipRange || defaultIpRange(o.name);
    if (o.ipRange && existing && existing.ipRange !== o.ipRange) {
      throw new InputError(`network '${o.name}' already exists with ip range ${existing.ipRange}, not ${o.ipRange}`, { hint: "use another name or remove the network first (`zgrid network rm`)" });
    }
    const reachable = existing && o.skipNodes?.length ? { ...existing, parts: existing.parts.filter((p) => !o.skipNodes!.includes(p.nodeId)) } : existing;
    const current = (await this.load(o.name, reachable)).filter((c) => !o.removeNodes?.includes(c.nodeId));
    const fresh = o.nodes.filter((n) => !current.some((c) => c.nodeId === n.nodeId) && !o.removeNodes?.includes(n.nodeId));
    const all = [...current.map((c) => ({ nodeId: c.nodeId, nodeTwinId: c.nodeTwinId })), ...fresh];
    const inputs = await Promise.all(all.map(async (n) => {
      const c = current.find((x) => x.nodeId === n.nodeId)?.data;
      return {
        nodeId: n.nodeId, endpoint: await this.endpointOf(n.nodeId), subnet: c?.subnet ?? subnetFor(ipRange, n.nodeId),
        listenPort: c?.wireguard_listen_port ?? 20000 + (randomBytes(2).readUInt16BE() % 10000), ...(c ? { privateKey: c.wireguard_private_key } : {}),
      };
    }));
    const kept = accessPeerOf(current);
    const access = o.access === null ? undefined : o.access ?? (kept && all.some((n) => n.nodeId === kept.nodeId) ? kept : undefined);
    const plan = planNetwork({ ipRange, nodes: inputs, ...(access ? { userAccess: access } : {}) });
    const parts: NetworkPart[] = [];
    for (const n of all) {
      const planned = plan.nodes.find((p) => p.nodeId === n.nodeId)!;
      const workload = { name: o.name, type: "network", data: planned.workload };
      const cur = current.find((c) => c.nodeId === n.nodeId);
      if (!cur) {
        o.onProgress?.(`network '${o.name}': adding ${planned.subnet} on node ${n.nodeId}`);
        const d = await tx.deploy({
          nodeId: n.nodeId, nodeTwinId: n.nodeTwinId, workloads: [{ version: 0, ...workload }],
          metadata: encodeMetadata({ kind: "network", name: o.name, network: ipRange, ...(o.project ? { project: o.project } : {}), ...(o.movable ? { movable: true as const } : {}) }),
          ...(o.onProgress ? { onProgress: o.onProgress } : {}), ...(o.signal ? { signal: o.signal } : {}), ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
        });
        parts.push({ name: o.name, nodeId: n.nodeId, contractId: d.contract_id, ipRange, subnet: planned.subnet, created: true });
      } else {
        if (JSON.stringify(cur.data?.peers ?? []) !== JSON.stringify(planned.workload.peers)) {
          o.onProgress?.(`network '${o.name}': node ${n.nodeId} now peers with ${planned.workload.peers.length} peer(s)`);
          await tx.update({ nodeId: n.nodeId, nodeTwinId: n.nodeTwinId, current: cur.deployment, workloads: cur.deployment.workloads.map((w) => (w.name === o.name && w.type === "network" ? workload : { name: w.name, type: w.type, data: w.data })), ...(o.onProgress ? { onProgress: o.onProgress } : {}), ...(o.signal ? { signal: o.signal } : {}) });
        }
        parts.push({ name: o.name, nodeId: n.nodeId, contractId: cur.contractId, ipRange, subnet: planned.subnet, created: false });
      }
    }
    return { parts, plan };
  }

  /** Each live part's deployment and network workload, read from its node. */
  private async load(name: string, existing: NetworkInfo | undefined): Promise<LoadedPart[]> {
    const bus = await this.bus();
    return Promise.all((existing?.parts ?? []).map(async (p) => {
      const nodeTwinId = (await this.chain.getNode(p.nodeId)).twinId;
      const d = await nodeClient(bus, nodeTwinId).get(p.contractId, { timeout: 10_000 });
      const w = d.workloads.find((x) => x.type === "network" && x.name === name);
      return { nodeId: p.nodeId, nodeTwinId, contractId: p.contractId, deployment: d, data: w?.data as NetworkWorkloadData | undefined };
    }));
  }

  /**
   * Adds the user's own machine to the network as a WireGuard peer of one part (the access node:
   * `nodeId`, else the one already used, else the lowest), replacing an earlier access key; every
   * part is updated in place. Returns the wg-quick file (it holds the new private key: only the
   * caller sees it). `remove` takes the access peer out everywhere.
   *
   * @example
   * ```ts
   * const a = await grid.networks.access("net");
   * writeFileSync("net.conf", a.config, { mode: 0o600 }); // wg-quick up ./net.conf
   * await grid.networks.access("net", { remove: true });
   * ```
   */
  async access(name: string, o: { nodeId?: number; remove?: boolean; onProgress?: ProgressFn; signal?: AbortSignal } = {}): Promise<NetworkAccess> {
    const existing = (await this.list()).find((n) => n.name === name);
    if (!existing) throw new NotFoundError(`no network named '${name}'`, { hint: "list networks with `zgrid network ls`; a network exists once a VM uses it" });
    if (o.nodeId !== undefined && !existing.parts.some((p) => p.nodeId === o.nodeId)) {
      throw new InputError(`network '${name}' has no part on node ${o.nodeId}`, { hint: `pick one of its nodes: ${existing.parts.map((p) => p.nodeId).join(", ")}` });
    }
    const tx = this.transaction();
    const nodes = existing.parts.map((p) => p.nodeId).sort((a, b) => a - b);
    const kept = accessPeerOf(await this.load(name, existing));
    const nodeId = o.nodeId ?? kept?.nodeId ?? nodes[0]!;
    const { plan } = await this.apply(tx, { name, nodes: [], ...(o.onProgress ? { onProgress: o.onProgress } : {}), ...(o.signal ? { signal: o.signal } : {}),
      access: o.remove ? null : { nodeId, subnet: accessSubnet(existing.ipRange), ...generateWgKeyPair() } });
    const u = plan.userAccess;
    if (!u) return { network: name, removed: true, nodeId: kept?.nodeId ?? 0, ipRange: existing.ipRange, subnet: "", address: "", publicKey: "", endpoint: "", config: "" };
    const endpoint = /Endpoint = (.*)/.exec(u.config)?.[1] ?? "";
    return { network: name, removed: false, nodeId: u.nodeId, ipRange: existing.ipRange, subnet: u.subnet, address: u.address, publicKey: u.keys.publicKey, endpoint, config: u.config };
  }

  /**
   * Takes node `nodeId` out of the network: its part's contract is cancelled and every other part
   * drops it from its peers (no stale peer left). Refused while VMs on that node use the network.
   */
  async removeNode(name: string, nodeId: number, o: { usedBy?: string[]; onProgress?: ProgressFn } = {}): Promise<number[]> {
    if (o.usedBy?.length) throw new InputError(`network '${name}' on node ${nodeId} is used by ${o.usedBy.join(", ")}`, { hint: "remove those VMs first (`zgrid vm rm <name>`)" });
    const n = (await this.list()).find((x) => x.name === name);
    const gone = n?.parts.filter((p) => p.nodeId === nodeId) ?? [];
    if (!n || gone.length === 0) throw new NotFoundError(`network '${name}' has no part on node ${nodeId}`, { hint: "see its parts with `zgrid network ls`" });
    await this.apply(this.transaction(), { name, nodes: [], removeNodes: [nodeId], ...(o.onProgress ? { onProgress: o.onProgress } : {}) });
    for (const p of gone) await this.contracts.cancel(p.contractId);
    return gone.map((p) => p.contractId);
  }

  private transaction(): DeployTransaction {
    if (!this.ctx) throw new Error("NetworkService was made without a deploy context");
    return new DeployTransaction(this.ctx);
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
