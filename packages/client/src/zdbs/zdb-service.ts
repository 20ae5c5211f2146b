/**
 * zdb namespaces as a noun: `create` deploys one zdb workload (its own contract) on a node with
 * the HDD capacity free (or `node`), `list` reads the twin's zdb contracts and asks each node for
 * the result (namespace and endpoints), `delete` cancels the contract and waits until the node
 * removed the data. Endpoints inside the twin's networks exist on nodes where the twin has one.
 *
 * @example
 * ```ts
 * const db = await grid.zdbs.create({ name: "backup", size: 1 << 30, mode: "seq", password: "s3cret" });
 * db.endpoints; // [{ address: "10.20.2.1", port: 9900, network: "net" }, { address: "10.0.0.5", port: 41234 }]
 * await grid.zdbs.delete("backup");
 * ```
 */
import type { Deployment, ZdbEndpoint, ZdbResult } from "@zgrid/types";
import type { ContractService } from "../contracts/contract-service.ts";
import { DeployTransaction, type DeployContext, type ProgressFn } from "../deploy/deployer.ts";
import { InputError, NoCapacityError, NotFoundError } from "../errors/client-errors.ts";
import { encodeMetadata } from "../models/contract-metadata.ts";
import { nodeClient } from "../nodes/node-client.ts";
import type { NodeFinder } from "../nodes/node-finder.ts";

export interface ZdbInfo {
  name: string;
  nodeId: number;
  contractId: number;
  /** the namespace to SELECT */
  namespace: string;
  endpoints: ZdbEndpoint[];
  state: string;
  size: number;
  mode: "user" | "seq";
  public: boolean;
  /** set by `apply -f` */
  project?: string;
}

export interface ZdbCreateOptions {
  name: string;
  /** bytes */
  size: number;
  mode?: "user" | "seq";
  password?: string;
  public?: boolean;
  node?: number;
  /** Networks of this twin on the node the namespace should be reachable in (names). */
  networks?: string[];
  project?: string;
  onProgress?: ProgressFn;
  signal?: AbortSignal;
}

export class ZdbNamespaces {
  private readonly ctx: DeployContext;
  private readonly nodes: NodeFinder;
  private readonly contracts: ContractService;

  constructor(o: { ctx: DeployContext; nodes: NodeFinder; contracts: ContractService }) {
    this.ctx = o.ctx;
    this.nodes = o.nodes;
    this.contracts = o.contracts;
  }

  async create(o: ZdbCreateOptions): Promise<ZdbInfo> {
    if (!/^[a-z0-9_]{1,30}$/.test(o.name)) throw new InputError(`zdb name '${o.name}': 1 to 30 of a-z 0-9 _`, { hint: "pick a name like backup or cache_1" });
    if ((await this.list()).some((z) => z.name === o.name)) throw new InputError(`a zdb named '${o.name}' exists`, { hint: "pick another name, or remove it with `zgrid zdb rm`" });
    const need = { cru: 0, mru: 0, sru: 0, hru: o.size };
    const node = o.node ? await this.nodes.get(o.node) : await this.nodes.pick(need);
    if (o.node && node.free.hru < o.size) throw new NoCapacityError(`node ${o.node} has ${node.free.hru} bytes of HDD free, the zdb needs ${o.size}`, { hint: "ask for less or leave --node out" });
    const tx = new DeployTransaction(this.ctx);
    try {
      const d = await tx.deploy({
        nodeId: node.nodeId, nodeTwinId: node.twinId, ...(o.networks?.length ? { externalNetworks: o.networks } : {}),
        workloads: [{ version: 0, name: o.name, type: "zdb", data: { size: o.size, mode: o.mode ?? "user", password: o.password ?? "", public: o.public ?? false } }],
        metadata: encodeMetadata({ kind: "zdb", name: o.name, ...(o.project ? { project: o.project } : {}) }),
        ...(o.onProgress ? { onProgress: o.onProgress } : {}), ...(o.signal ? { signal: o.signal } : {}),
      });
      const info = describe(o.name, node.nodeId, d);
      return o.project ? { ...info, project: o.project } : info;
    } catch (e) {
      await tx.rollback(o.onProgress);
      throw e;
    }
  }

  async list(): Promise<ZdbInfo[]> {
    const zdbs = (await this.contracts.list()).filter((c) => c.metadata?.kind === "zdb");
    return Promise.all(zdbs.map(async (c) => {
      const d = await this.fetchDeployment(c.nodeId, c.id).catch(() => undefined);
      const info = describe(c.metadata!.name, c.nodeId, d, c.id);
      return c.metadata!.project ? { ...info, project: c.metadata!.project } : info;
    }));
  }

  async get(name: string): Promise<ZdbInfo> {
    const z = (await this.list()).find((x) => x.name === name);
    if (!z) throw new NotFoundError(`no zdb named '${name}'`, { hint: "list them with `zgrid zdb ls`" });
    return z;
  }

  /** Cancels the contract and waits (up to `timeoutMs`) until the node deleted the namespace. */
  async delete(name: string, o: { timeoutMs?: number } = {}): Promise<ZdbInfo> {
    const z = await this.get(name);
    await this.contracts.cancel(z.contractId);
    const end = Date.now() + (o.timeoutMs ?? 60_000);
    while (Date.now() < end) {
      const d = await this.fetchDeployment(z.nodeId, z.contractId).catch(() => undefined);
      if (!d || d.workloads.every((w) => w.result?.state === "deleted")) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    return z;
  }

  private async fetchDeployment(nodeId: number, contractId: number): Promise<Deployment> {
    const node = await this.ctx.chain.getNode(nodeId);
    return nodeClient(await this.ctx.bus(), node.twinId).get(contractId, { timeout: 8_000 });
  }
}

function describe(name: string, nodeId: number, d: Deployment | undefined, contractId = d?.contract_id ?? 0): ZdbInfo {
  const w = d?.workloads.find((x) => x.type === "zdb");
  const r = (w?.result?.state === "ok" ? w.result.data : undefined) as ZdbResult | undefined;
  const data = w?.type === "zdb" ? w.data : undefined;
  return {
    name, nodeId, contractId, namespace: r?.namespace ?? "", endpoints: r?.endpoints ?? [], state: w?.result?.state ?? "unknown",
    size: data?.size ?? 0, mode: data?.mode ?? "user", public: data?.public ?? false,
  };
}
