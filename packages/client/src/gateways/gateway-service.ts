/**
 * Gateways: publish a VM's port as `<name>.<gateway node domain>` (HTTP Host routing on the node's
 * HAProxy). The name is held by a name contract; the gateway workload runs on the VM's node (which
 * must have a domain) and reaches the VM over its private network. Both contracts roll back together.
 *
 * @example
 * ```ts
 * const gw = await grid.gateways.create({ name: "shop", vm: "web", port: 80 });
 * gw.fqdn; // "shop.gw1.example.org"
 * ```
 */
import type { GridClient } from "@zgrid/chain";
import type { GatewayResult } from "@zgrid/types";
import { DeployTransaction, type DeployContext, type ProgressFn } from "../deploy/deployer.ts";
import { InputError, NotFoundError } from "../errors/client-errors.ts";
import type { ContractService } from "../contracts/contract-service.ts";
import { encodeMetadata } from "../models/contract-metadata.ts";
import type { NodeFinder } from "../nodes/node-finder.ts";
import type { VmService } from "../vms/vm-service.ts";

export interface GatewayInfo { name: string; fqdn: string; nodeId: number; contractId: number; nameContractId: number; backend: string; vm: string }

export class GatewayService {
  private readonly ctx: DeployContext;
  private readonly chain: GridClient;
  private readonly vms: VmService;
  private readonly nodes: NodeFinder;
  private readonly contracts: ContractService;

  constructor(o: { ctx: DeployContext; vms: VmService; nodes: NodeFinder; contracts: ContractService }) {
    this.ctx = o.ctx;
    this.chain = o.ctx.chain;
    this.vms = o.vms;
    this.nodes = o.nodes;
    this.contracts = o.contracts;
  }

  async create(o: { name: string; vm: string; port?: number; onProgress?: ProgressFn; signal?: AbortSignal }): Promise<GatewayInfo> {
    if (!/^[a-z0-9_-]{3,36}$/.test(o.name)) throw new InputError(`gateway name '${o.name}': 3 to 36 of a-z 0-9 - _`, { hint: "pick a lowercase name like shop or my-app" });
    const vm = await this.vms.get(o.vm);
    const node = await this.nodes.get(vm.nodeId);
    if (!node.domain) throw new InputError(`node ${vm.nodeId} (where '${o.vm}' runs) is not a gateway: it has no domain`, { hint: "deploy the VM on a node with a domain (`zgrid nodes ls --has-domain`)" });
    const backend = `http://${vm.ip}:${o.port ?? 80}`;
    const tx = new DeployTransaction(this.ctx);
    try {
      o.onProgress?.(`reserving the name '${o.name}'`);
      const nameContractId = await this.chain.createNameContract(o.name);
      tx.created.push(nameContractId);
      const workloadName = `gw_${o.name.replace(/-/g, "_")}`.slice(0, 36);
      const d = await tx.deploy({
        nodeId: vm.nodeId, nodeTwinId: node.twinId, externalNetworks: [vm.network],
        workloads: [{ version: 0, name: workloadName, type: "gateway-name-proxy", data: { name: o.name, backends: [backend], network: vm.network } }],
        metadata: encodeMetadata({ kind: "gateway", name: o.name, network: o.vm, nameContract: nameContractId }),
        ...(o.onProgress ? { onProgress: o.onProgress } : {}), ...(o.signal ? { signal: o.signal } : {}),
      });
      const fqdn = ((d.workloads[0]?.result?.data ?? {}) as Partial<GatewayResult>).fqdn ?? `${o.name}.${node.domain}`;
      return { name: o.name, fqdn, nodeId: vm.nodeId, contractId: d.contract_id, nameContractId, backend, vm: o.vm };
    } catch (e) {
      await tx.rollback(o.onProgress);
      throw e;
    }
  }

  async list(): Promise<GatewayInfo[]> {
    const all = await this.contracts.list();
    const gws = all.filter((c) => c.metadata?.kind === "gateway");
    return Promise.all(gws.map(async (c) => {
      const node = await this.nodes.get(c.nodeId).catch(() => undefined);
      const name = c.metadata!.name;
      return { name, fqdn: node?.domain ? `${name}.${node.domain}` : name, nodeId: c.nodeId, contractId: c.id, nameContractId: c.metadata!.nameContract ?? 0, backend: "", vm: c.metadata!.network ?? "" };
    }));
  }

  /** Cancels the gateway's contract and its name contract. */
  async delete(name: string): Promise<GatewayInfo> {
    const gw = (await this.list()).find((g) => g.name === name);
    if (!gw) throw new NotFoundError(`no gateway named '${name}'`, { hint: "list them with `zgrid gw ls`" });
    await this.contracts.cancel(gw.contractId);
    if (gw.nameContractId) await this.contracts.cancel(gw.nameContractId).catch(() => undefined);
    return gw;
  }
}
