/**
 * Gateways: publish a VM's port, or public backends, on a gateway node (one with a domain) as
 * `<name>.<node domain>` (a name gateway; the name is held by a name contract) or under the user's
 * own domain (an FQDN gateway: point the domain's DNS at the node). A VM backend is reached over
 * the VM's private network (the gateway runs on the VM's node); public backends (`http://IP:PORT`,
 * or `IP:PORT` with TLS passthrough) from any gateway node. With TLS passthrough the node forwards
 * the TLS stream by SNI and the backend holds the certificate. Contracts roll back together.
 *
 * @example
 * ```ts
 * const gw = await grid.gateways.create({ name: "shop", vm: "web", port: 80 });
 * gw.fqdn; // "shop.gw1.example.org"
 * await grid.gateways.create({ name: "blog", fqdn: "blog.example.org", backends: ["http://185.69.0.20:80"] });
 * await grid.gateways.create({ name: "tls", vm: "web", port: 443, tlsPassthrough: true });
 * ```
 */
import type { GridClient } from "@zgrid/chain";
import { isFqdn, validateBackends, type GatewayResult } from "@zgrid/types";
import { DeployTransaction, type DeployContext, type ProgressFn } from "../deploy/deployer.ts";
import { InputError, NoCapacityError, NotFoundError } from "../errors/client-errors.ts";
import type { ContractService } from "../contracts/contract-service.ts";
import { encodeMetadata } from "../models/contract-metadata.ts";
import { LIST_ANSWER_MS, type NodeFinder } from "../nodes/node-finder.ts";
import type { VmService } from "../vms/vm-service.ts";

export interface GatewayInfo {
  name: string;
  fqdn: string;
  nodeId: number;
  contractId: number;
  /** 0 for FQDN gateways (no name contract). */
  nameContractId: number;
  backend: string;
  /** The VM it publishes ("" for public backends). */
  vm: string;
  kind: "name" | "fqdn";
  project?: string;
  spec?: string;
}

export interface GatewayInput {
  /** The gateway's name: the subdomain of a name gateway; a label for an FQDN gateway. */
  name: string;
  /** Publish this VM's `port` (default 80) over its private network… */
  vm?: string;
  port?: number;
  /** …or these public backends: `http://IP:PORT` (or `IP:PORT` with TLS passthrough). */
  backends?: string[];
  /** Serve this domain (an FQDN gateway) instead of `<name>.<node domain>`. */
  fqdn?: string;
  /** Forward TLS by SNI to the backend (which holds the certificate) instead of proxying HTTP. */
  tlsPassthrough?: boolean;
  /** The gateway node for public backends (default: the gateway node with the most free memory). */
  node?: number;
}

export interface GatewayCreateOptions { onProgress?: ProgressFn; signal?: AbortSignal; project?: string; spec?: string }

const NAME = /^[a-z0-9_-]{3,36}$/;

/** Checks a gateway's input without the grid (also used by spec files); throws InputError. */
export function checkGatewayInput(g: GatewayInput): void {
  if (!NAME.test(g.name)) throw new InputError(`gateway name '${g.name}': 3 to 36 of a-z 0-9 - _`, { hint: "pick a lowercase name like shop or my-app" });
  if (!!g.vm === !!g.backends?.length) throw new InputError(`gateway '${g.name}': give either a VM or backends`, { hint: "--vm NAME [--port N], or --backend http://IP:PORT (repeatable)" });
  if (g.port !== undefined && (!Number.isInteger(g.port) || g.port < 1 || g.port > 65535)) throw new InputError(`gateway '${g.name}': port ${g.port} is not 1..65535`);
  if (g.fqdn !== undefined && !isFqdn(g.fqdn)) throw new InputError(`gateway '${g.name}': '${g.fqdn}' is not a domain name`, { hint: "give a name like app.example.org" });
  if (g.backends?.length) {
    const problems: string[] = [];
    validateBackends(g.backends, g.tlsPassthrough ?? false, (field, value, expected) => problems.push(`${field} ${JSON.stringify(value)}: expected ${expected}`));
    if (problems.length) throw new InputError(`gateway '${g.name}': ${problems.join("; ")}`, { hint: g.tlsPassthrough ? "with TLS passthrough a backend is IP:PORT" : "a backend is http://IP:PORT" });
  }
}

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

  async create(g: GatewayInput & GatewayCreateOptions): Promise<GatewayInfo> {
    checkGatewayInput(g);
    if ((await this.list()).some((x) => x.name === g.name)) throw new InputError(`a gateway named '${g.name}' already exists`, { hint: `remove it first (\`zgrid gw rm ${g.name}\`)` });
    const vm = g.vm ? await this.vms.get(g.vm) : undefined;
    const nodeId = vm?.nodeId ?? g.node ?? (await this.gatewayNode());
    const node = await this.nodes.get(nodeId);
    if (!node.domain) {
      throw new InputError(vm ? `node ${nodeId} (where '${g.vm}' runs) is not a gateway: it has no domain` : `node ${nodeId} is not a gateway: it has no domain`, { hint: vm ? "deploy the VM on a node with a domain (`zgrid nodes ls --has-domain`)" : "pick one from `zgrid nodes ls --has-domain`" });
    }
    const port = g.port ?? 80;
    const backends = vm ? [g.tlsPassthrough ? `${vm.ip}:${port}` : `http://${vm.ip}:${port}`] : g.backends!;
    const tx = new DeployTransaction(this.ctx);
    try {
      let nameContractId = 0;
      if (!g.fqdn) {
        g.onProgress?.(`reserving the name '${g.name}'`);
        nameContractId = await this.chain.createNameContract(g.name);
        tx.created.push(nameContractId);
      }
      const workloadName = `gw_${g.name.replace(/-/g, "_")}`.slice(0, 36);
      const common = { backends, tls_passthrough: g.tlsPassthrough ?? false, ...(vm ? { network: vm.network } : {}) };
      const workload = g.fqdn
        ? { version: 0, name: workloadName, type: "gateway-fqdn-proxy", data: { fqdn: g.fqdn, ...common } }
        : { version: 0, name: workloadName, type: "gateway-name-proxy", data: { name: g.name, ...common } };
      const d = await tx.deploy({
        nodeId, nodeTwinId: node.twinId, externalNetworks: vm ? [vm.network] : [], workloads: [workload],
        metadata: encodeMetadata({ kind: "gateway", name: g.name, ...(vm ? { network: vm.name, vm: vm.name } : {}), ...(g.fqdn ? { fqdn: g.fqdn } : { nameContract: nameContractId }), ...(g.project ? { project: g.project } : {}), ...(g.spec ? { spec: g.spec } : {}) }),
        ...(g.onProgress ? { onProgress: g.onProgress } : {}), ...(g.signal ? { signal: g.signal } : {}),
      });
      const fqdn = ((d.workloads[0]?.result?.data ?? {}) as Partial<GatewayResult>).fqdn ?? g.fqdn ?? `${g.name}.${node.domain}`;
      return { name: g.name, fqdn, nodeId, contractId: d.contract_id, nameContractId, backend: backends.join(","), vm: vm?.name ?? "", kind: g.fqdn ? "fqdn" : "name", ...(g.project ? { project: g.project } : {}), ...(g.spec ? { spec: g.spec } : {}) };
    } catch (e) {
      await tx.rollback(g.onProgress);
      throw e;
    }
  }

  async list(): Promise<GatewayInfo[]> {
    const all = await this.contracts.list();
    const gws = all.filter((c) => c.metadata?.kind === "gateway");
    return Promise.all(gws.map(async (c) => {
      const m = c.metadata!;
      const node = m.fqdn ? undefined : await this.nodes.get(c.nodeId, { answerWithinMs: LIST_ANSWER_MS }).catch(() => undefined);
      return {
        name: m.name, fqdn: m.fqdn ?? (node?.domain ? `${m.name}.${node.domain}` : m.name), nodeId: c.nodeId, contractId: c.id,
        nameContractId: m.nameContract ?? 0, backend: "", vm: m.vm ?? m.network ?? "", kind: m.fqdn ? "fqdn" : "name",
        ...(m.project ? { project: m.project } : {}), ...(m.spec ? { spec: m.spec } : {}),
      } satisfies GatewayInfo;
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

  /** The gateway node (has a domain, up) with the most free memory. */
  private async gatewayNode(): Promise<number> {
    const found = (await this.nodes.list({ hasDomain: true }))[0];
    if (!found) throw new NoCapacityError("no gateway node (a node with a domain) is up", { hint: "give --node, or ask a farmer to set a domain on a node" });
    return found.nodeId;
  }
}
