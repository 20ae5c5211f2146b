/**
 * Reading VMs: the twin's VM contracts from the chain, each deployment from its node (one signed
 * bus request per VM), described as VmInfo. Apart from VmService (which uses it for list/get and
 * the result of a deploy) so a read needs neither viem nor the deploy code: `@zgrid/client/read`
 * builds it over the light chain reader, and libp2p is loaded only when there is a VM to ask about.
 *
 * @example
 * ```ts
 * const vms = new VmReader({ chain, bus, twinId, contracts });
 * for (const v of await vms.list()) console.log(v.name, v.state, v.ip);
 * ```
 */
import type { Bus } from "@zgrid/bus";
import type { ChainReader } from "@zgrid/chain/reader";
import type { Deployment, IpResult, ZmachineHealth, ZmachineResult } from "@zgrid/types";
import type { ContractInfo } from "../contracts/contract-service.ts";

export interface VmInfo {
  name: string;
  nodeId: number;
  contractId: number;
  network: string;
  ip: string;
  /** ok | init | error | deleted | paused | unreachable */
  state: string;
  message: string;
  flist: string;
  cpu: number;
  memoryMiB: number;
  project?: string;
  spec?: string;
  /** The public IPv4 (CIDR) when the VM has one, held on the VM's own NIC. */
  publicIp: string;
  /** The public IPv6 (CIDR) when the VM has one. */
  publicIp6: string;
  /** Its disks (zmounts): name, size in MiB, where the VM mounts them. */
  disks: Array<{ name: string; sizeMiB: number; mountpoint: string }>;
  /** The deployment holds an `ip` workload (a public IP reserved on its contract). */
  hasPublicIp: boolean;
  /** Console log path on the node's host (local grid: readable here). */
  consoleLog: string;
  /** The host namespace holding the VM's gateway (local grid), and how to reach the VM. */
  namespace: string;
  reach: string;
  /** The console's last lines when the VM is not running well (error state), else absent. */
  consoleTail?: string;
  /** The app's HEALTHCHECK as the node last reported it (VMs with a health check only). */
  health?: ZmachineHealth;
}

export interface VmReaderDeps {
  chain: Pick<ChainReader, "getNode" | "getTwin">;
  /** The bus, made on first use (libp2p loads then), or the bus agent's (`@zgrid/client/bus-agent`). */
  bus(): Promise<Pick<Bus, "request">>;
  twinId: number;
  contracts: { list(): Promise<ContractInfo[]> };
}

export class VmReader {
  private readonly deps: VmReaderDeps;
  private readonly accounts = new Map<number, Promise<string>>();

  constructor(deps: VmReaderDeps) {
    this.deps = deps;
  }

  /** The twin's VMs, each as its node reports it (`unreachable` when the node does not answer). */
  async list(): Promise<VmInfo[]> {
    const vms = (await this.deps.contracts.list()).filter((c) => c.metadata?.kind === "vm");
    return Promise.all(vms.map(async (c) => {
      const m = c.metadata!;
      const d = await this.fetchDeployment(c.nodeId, c.id).catch(() => undefined);
      return this.describe(c.nodeId, d, m.name, m.network ?? "", m.project, m.spec, c.id);
    }));
  }

  /** The deployment as its node reports it (a signed bus request: only the deployment's twin). */
  async fetchDeployment(nodeId: number, contractId: number): Promise<Deployment> {
    const node = await this.deps.chain.getNode(nodeId);
    const bus = await this.deps.bus();
    // loaded with the first VM to describe: a twin without VMs never loads the node API's schemas (zod)
    const { nodeClient } = await import("../nodes/node-client.ts");
    return nodeClient(bus, node.twinId).get(contractId, { timeout: 8_000 });
  }

  /** The node's chain account: it scopes the host names of the node's networks. */
  private async nodeAccount(nodeId: number): Promise<string> {
    let p = this.accounts.get(nodeId);
    if (!p) {
      p = this.deps.chain.getNode(nodeId).then((n) => this.deps.chain.getTwin(n.twinId)).then((t) => t.account);
      this.accounts.set(nodeId, p);
    }
    return p;
  }

  /** A VM's view from its deployment (undefined: the node did not answer, state `unreachable`). */
  async describe(nodeId: number, d: Deployment | undefined, name: string, network: string, project?: string, spec?: string, contractId?: number): Promise<VmInfo> {
    const w = d?.workloads.find((x) => x.name === name && x.type === "zmachine");
    const data = (w?.result?.data ?? {}) as Partial<ZmachineResult>;
    const wd = (w?.data ?? {}) as { flist?: string; compute_capacity?: { cpu: number; memory: number }; network?: { interfaces: Array<{ ip: string }> } };
    const ip = data.ip ?? wd.network?.interfaces[0]?.ip ?? "";
    const pub = d?.workloads.find((x) => x.type === "ip")?.result?.data as Partial<IpResult> | undefined;
    const { networkNames } = await import("@zgrid/types/network-names");
    const ns = networkNames(nodeId, this.deps.twinId, network, await this.nodeAccount(nodeId)).namespace;
    const mounts = (w?.data as { mounts?: Array<{ name: string; mountpoint: string }> } | undefined)?.mounts ?? [];
    const disks = mounts.map((m) => {
      const z = d?.workloads.find((x) => x.name === m.name && x.type === "zmount");
      return { name: m.name, sizeMiB: Math.round(((z?.data as { size?: number } | undefined)?.size ?? 0) / 1024 ** 2), mountpoint: m.mountpoint };
    });
    return {
      name, nodeId, contractId: d?.contract_id ?? contractId ?? 0, network, ip, publicIp: pub?.ip ?? "", publicIp6: pub?.ip6 ?? "",
      state: d ? (w?.result?.state ?? "init") : "unreachable", message: w?.result?.message ?? "",
      flist: wd.flist ?? "", cpu: wd.compute_capacity?.cpu ?? 0, memoryMiB: Math.round((wd.compute_capacity?.memory ?? 0) / 1024 ** 2),
      ...(project ? { project } : {}), ...(spec ? { spec } : {}),
      disks, hasPublicIp: !!d?.workloads.some((x) => x.type === "ip"),
      consoleLog: data.console ?? "", namespace: ns, reach: ip ? `ip netns exec ${ns} ssh root@${ip}` : "",
      ...(data.health && w?.result?.state !== "deleted" ? { health: data.health } : {}),
    };
  }
}
