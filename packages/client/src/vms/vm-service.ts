/**
 * VMs: deploy (node finder, network part, free IP, contract, sign, send, wait; rollback on any
 * failure or abort), list, get, delete.
 *
 * @example
 * ```ts
 * const vm = await grid.vms.deploy({ name: "web", flist, memory: 512, ssh_key }, { onProgress: console.error });
 * vm.ip; vm.reach; // "ip netns exec n-1a2b3c4d ssh root@10.147.3.2"
 * await grid.vms.delete("web");
 * ```
 */
import type { GridClient } from "@zgrid/chain";
import type { Deployment, NodeApi, VmExecIoAnswer, VmExecResult, VmLogs, ZmachineResult } from "@zgrid/types";
import { lastLines, waitAppRunning } from "./vm-wait.ts";
import type { ContractService } from "../contracts/contract-service.ts";
import { DeployTransaction, type DeployContext, type ProgressFn } from "../deploy/deployer.ts";
import { FlistNotFoundError, InputError, NoCapacityError, NoFundsError, NotFoundError } from "../errors/client-errors.ts";
import { formatBytes } from "../format.ts";
import { encodeMetadata } from "../models/contract-metadata.ts";
import { hasPublicIp, vmModelSchema, vmNeeds, vmWorkloads, type VmModel, type VmModelInput } from "../models/vm-model.ts";
import type { NetworkService } from "../networks/network-service.ts";
import type { NodeFinder } from "../nodes/node-finder.ts";
import { zodToInputError } from "../models/zod-errors.ts";
import { wakeNode } from "../nodes/wake-node.ts";
import { nodeClient } from "../nodes/node-client.ts";
import { VmReader, type VmInfo } from "./vm-reader.ts";

export type { VmInfo };

export interface DeployOptions {
  signal?: AbortSignal;
  onProgress?: ProgressFn;
  project?: string;
  spec?: string;
  ipRange?: string;
  /** Nodes known dead: their network parts are left out of the network (not read, not peered). */
  skipNodes?: number[];
  /** Wait until the app runs (default true; container-mode VMs), failing (and rolling back) when it does not. */
  waitRunning?: boolean;
  /** How long to wait for that (default 120 s). */
  waitMs?: number;
  /** How long each node may take to provision its workloads (default 180 s; a nested or emulated node needs more). */
  settleMs?: number;
  /** Consent to be re-placed when the farm wants the node off (contract-metadata `movable`): for an owner that does re-place it (a 3bot service). */
  movable?: boolean;
}

export class VmService {
  private readonly ctx: DeployContext;
  private readonly chain: GridClient;
  private readonly nodes: NodeFinder;
  private readonly networks: NetworkService;
  private readonly contracts: ContractService;
  private readonly reader: VmReader;

  constructor(o: { ctx: DeployContext; nodes: NodeFinder; networks: NetworkService; contracts: ContractService }) {
    this.ctx = o.ctx;
    this.chain = o.ctx.chain;
    this.nodes = o.nodes;
    this.networks = o.networks;
    this.contracts = o.contracts;
    this.reader = new VmReader({ chain: o.ctx.chain, bus: o.ctx.bus, twinId: o.ctx.twinId, contracts: o.contracts });
  }

  /** Checks the input, picks a node, deploys; on any failure (or abort) cancels every contract it made. */
  async deploy(input: VmModelInput, o: DeployOptions = {}): Promise<VmInfo> {
    const parsed = vmModelSchema.safeParse(input);
    if (!parsed.success) throw zodToInputError(parsed.error, `vm '${String((input as { name?: unknown }).name ?? "")}'`);
    const vm = parsed.data;
    const progress = o.onProgress ?? (() => undefined);
    if ((await this.contracts.list()).some((c) => c.metadata?.kind === "vm" && c.metadata.name === vm.name)) {
      throw new InputError(`a VM named '${vm.name}' already exists`, { details: { name: vm.name }, hint: "pick another name, or remove it with `zgrid vm rm " + vm.name + "`" });
    }
    progress(`checking flist ${vm.flist}`);
    await checkFlist(vm.flist);
    if ((await this.chain.balanceOf(this.ctx.key.address)) === 0n) {
      throw new NoFundsError(`twin ${this.ctx.twinId} has no tokens to pay for contracts`, { details: { twinId: this.ctx.twinId, address: this.ctx.key.address }, hint: "fund it (`zgrid twin fund` on the local grid) and try again" });
    }
    const node = await this.chooseNode(vm, progress);
    const tx = new DeployTransaction(this.ctx);
    try {
      const part = await this.networks.ensure(tx, { name: vm.network, nodeId: node.nodeId, nodeTwinId: node.twinId, ...(o.ipRange ? { ipRange: o.ipRange } : {}), ...(o.project ? { project: o.project } : {}), onProgress: progress, ...(o.signal ? { signal: o.signal } : {}), ...(o.skipNodes ? { skipNodes: o.skipNodes } : {}), ...(o.settleMs ? { timeoutMs: o.settleMs } : {}), ...(o.movable ? { movable: true } : {}) });
      const ip = await this.networks.freeIp(part, node.twinId);
      const d = await tx.deploy({
        nodeId: node.nodeId, nodeTwinId: node.twinId, workloads: vmWorkloads(vm, ip), externalNetworks: [vm.network], publicIps: vm.public_ip ? 1 : 0,
        metadata: encodeMetadata({ kind: "vm", name: vm.name, network: vm.network, ...(o.project ? { project: o.project } : {}), ...(o.spec ? { spec: o.spec } : {}), ...(o.movable ? { movable: true as const } : {}) }),
        onProgress: progress, ...(o.signal ? { signal: o.signal } : {}), ...(o.settleMs ? { timeoutMs: o.settleMs } : {}),
      });
      const result = d.workloads.find((w) => w.name === vm.name)?.result?.data as Partial<ZmachineResult> | undefined;
      if (result?.mode === "container" && o.waitRunning !== false) {
        progress("waiting until the app runs");
        const node2 = nodeClient(await this.ctx.bus(), node.twinId);
        await waitAppRunning(() => node2.vmLogs({ contract_id: d.contract_id, name: vm.name, max_bytes: 64 * 1024 }, { timeout: 8_000 }), { name: vm.name, ...(o.waitMs ? { timeoutMs: o.waitMs } : {}) });
      }
      return await this.describe(node.nodeId, d, vm.name, vm.network, o.project, o.spec);
    } catch (e) {
      const cancelled = await tx.rollback(progress);
      if (cancelled.length) progress(`rolled back: cancelled contract(s) ${cancelled.join(", ")}`);
      throw e;
    }
  }

  /**
   * Changes a VM in place (same node, network, IP and public IP; its contract kept): the node
   * restarts it with the new model and keeps its disks. Disks the model adds are made; disks it
   * drops are removed with their data (the caller decides: `planSpec` marks that as data loss).
   */
  async update(name: string, input: VmModelInput, o: DeployOptions = {}): Promise<VmInfo> {
    const parsed = vmModelSchema.safeParse(input);
    if (!parsed.success) throw zodToInputError(parsed.error, `vm '${name}'`);
    const vm = parsed.data;
    const progress = o.onProgress ?? (() => undefined);
    const cur = await this.get(name);
    if (vm.network !== cur.network) throw new InputError(`vm '${name}': its network cannot change in place (${cur.network} → ${vm.network})`, { hint: "delete and deploy it again (its disks are lost)" });
    if (hasPublicIp(vm) !== cur.hasPublicIp) throw new InputError(`vm '${name}': a public IP cannot be added or removed in place`, { hint: "delete and deploy it again (its disks are lost)" });
    if (vm.node !== undefined && vm.node !== cur.nodeId) throw new InputError(`vm '${name}' runs on node ${cur.nodeId}, not ${vm.node}: it cannot move in place`, { hint: "delete and deploy it again (its disks are lost)" });
    if (vm.flist !== cur.flist) {
      progress(`checking flist ${vm.flist}`);
      await checkFlist(vm.flist);
    }
    const node = await this.chain.getNode(cur.nodeId);
    const current = await this.fetchDeployment(cur.nodeId, cur.contractId);
    const pub = current.workloads.find((w) => w.type === "ip")?.data as { v4?: boolean; v6?: boolean } | undefined;
    if (pub && (!!pub.v4 !== vm.public_ip || !!pub.v6 !== vm.public_ip6)) {
      throw new InputError(`vm '${name}': its public IP kind cannot change in place (v4 ${!!pub.v4} → ${vm.public_ip}, v6 ${!!pub.v6} → ${vm.public_ip6})`, { hint: "delete and deploy it again (its disks are lost)" });
    }
    const workloads = vmWorkloads(vm, cur.ip) as Array<{ name: string; type: string; data: unknown }>;
    const project = o.project ?? cur.project;
    const tx = new DeployTransaction(this.ctx);
    const d = await tx.update({
      nodeId: cur.nodeId, nodeTwinId: node.twinId, current, workloads, externalNetworks: [vm.network],
      metadata: encodeMetadata({ kind: "vm", name: vm.name, network: vm.network, ...(project ? { project } : {}), ...(o.spec ? { spec: o.spec } : {}), ...(o.movable ? { movable: true as const } : {}) }),
      onProgress: progress, ...(o.signal ? { signal: o.signal } : {}),
    });
    return this.describe(cur.nodeId, d, vm.name, vm.network, project, o.spec);
  }

  async list(): Promise<VmInfo[]> {
    return this.reader.list();
  }

  async get(name: string): Promise<VmInfo> {
    const vm = (await this.list()).find((v) => v.name === name);
    if (!vm) throw new NotFoundError(`no VM named '${name}'`, { details: { name }, hint: "list VMs with `zgrid vm ls`" });
    if (vm.state === "error") {
      const logs = await this.logs(name, { maxBytes: 8192 }, vm).catch(() => undefined);
      if (logs) vm.consoleTail = lastLines(logs.log, 30);
    }
    return vm;
  }

  /** The VM's console from the node (also stopped or crashed VMs); `offset` follows on from a previous answer. */
  async logs(name: string, o: { offset?: number; maxBytes?: number } = {}, known?: VmInfo): Promise<VmLogs> {
    const vm = known ?? (await this.get(name));
    const node = await this.chain.getNode(vm.nodeId);
    return nodeClient(await this.ctx.bus(), node.twinId).vmLogs({
      contract_id: vm.contractId, name, ...(o.offset !== undefined ? { offset: o.offset } : {}), ...(o.maxBytes ? { max_bytes: o.maxBytes } : {}),
    }, { timeout: 8_000 });
  }

  /** stop | start | restart the VM on its node (a stopped VM stays stopped until started). */
  async action(name: string, action: "stop" | "start" | "restart"): Promise<VmLogs> {
    const vm = await this.get(name);
    const node = await this.chain.getNode(vm.nodeId);
    return nodeClient(await this.ctx.bus(), node.twinId).vmAction({ contract_id: vm.contractId, name, action }, { timeout: 60_000 });
  }

  /**
   * Runs `argv` in the running VM through its node's guest agent (authorized by this twin's signed
   * bus request: only the deployment's twin). Output is bounded (VM_EXEC_OUTPUT_MAX, `truncated`),
   * time too (`timeoutSec`, at most 600).
   */
  async exec(name: string, argv: string[], o: { env?: Record<string, string>; workdir?: string; user?: string; timeoutSec?: number; stdin?: Buffer } = {}): Promise<VmExecResult> {
    const vm = await this.get(name);
    const node = await this.chain.getNode(vm.nodeId);
    const timeoutSec = o.timeoutSec ?? 60;
    return nodeClient(await this.ctx.bus(), node.twinId).vmExec({
      contract_id: vm.contractId, name, argv, timeout_sec: timeoutSec,
      ...(o.env ? { env: o.env } : {}), ...(o.workdir ? { workdir: o.workdir } : {}), ...(o.user ? { user: o.user } : {}),
      ...(o.stdin ? { stdin: o.stdin.toString("base64") } : {}),
    }, { timeout: timeoutSec * 1000 + 20_000 });
  }

  /**
   * Opens a streamed exec in the running VM (`vm exec -i/-t`): a terminal of rows x cols with
   * `tty`, else a stdin pipe. Drive it with `io` (stdin, eof, resize, signal, close; each answers
   * the output since the last call, waiting up to `wait_ms`, and the exit at the end). The node
   * bounds it (sessions per twin, unread output, idle 30 s, `timeoutSec` at most 3600).
   *
   * @example
   * ```ts
   * const s = await grid.vms.execSession("web", ["sh"], { tty: true, rows: 24, cols: 80 });
   * const r = await s.io({ stdin: Buffer.from("exit 3\r").toString("base64"), wait_ms: 1000 });
   * ```
   */
  async execSession(name: string, argv: string[], o: { env?: Record<string, string>; workdir?: string; user?: string; tty?: boolean; rows?: number; cols?: number; timeoutSec?: number } = {}): Promise<{ session: string; io(r: Omit<NodeApi["vmExecIo"]["request"], "session">): Promise<VmExecIoAnswer> }> {
    const vm = await this.get(name);
    const node = await this.chain.getNode(vm.nodeId);
    const client = nodeClient(await this.ctx.bus(), node.twinId);
    const { session } = await client.vmExecOpen({
      contract_id: vm.contractId, name, argv, tty: o.tty ?? false, ...(o.rows ? { rows: o.rows } : {}), ...(o.cols ? { cols: o.cols } : {}),
      ...(o.timeoutSec ? { timeout_sec: o.timeoutSec } : {}),
      ...(o.env ? { env: o.env } : {}), ...(o.workdir ? { workdir: o.workdir } : {}), ...(o.user ? { user: o.user } : {}),
    }, { timeout: 30_000 });
    return { session, io: (r) => client.vmExecIo({ ...r, session }, { timeout: (r.wait_ms ?? 5000) + 20_000 }) };
  }

  /** Cancels the VM's contract and waits (up to `timeoutMs`) until the node removed it. */
  async delete(name: string, o: { timeoutMs?: number } = {}): Promise<VmInfo> {
    const vm = await this.get(name);
    await this.contracts.cancel(vm.contractId);
    const end = Date.now() + (o.timeoutMs ?? 60_000);
    while (Date.now() < end) {
      const d = await this.fetchDeployment(vm.nodeId, vm.contractId).catch(() => undefined);
      if (!d || d.workloads.every((w) => w.result?.state === "deleted")) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    return { ...vm, state: "deleted" };
  }

  private async chooseNode(vm: VmModel, progress: ProgressFn) {
    const need = vmNeeds(vm);
    if (vm.node === undefined) {
      progress("finding a node");
      let n = await this.nodes.pick(need, { ...(vm.farm ? { farmId: vm.farm } : {}), ...(vm.country ? { country: vm.country } : {}), ...(vm.public_ip ? { publicIps: 1 } : {}), ...(vm.public_ip6 ? { ipv6: true } : {}), ...(vm.placement ? { placement: vm.placement } : {}) });
      if (n.standby) {
        progress(`picked node ${n.nodeId}: in standby, its farm's bot wakes it`);
        await wakeNode({ chain: this.chain, bus: await this.ctx.bus() }, n.nodeId, { onProgress: progress });
        n = await this.nodes.get(n.nodeId);
      }
      progress(`picked node ${n.nodeId} (${formatBytes(n.free.mru)} memory free)`);
      return n;
    }
    let n = await this.nodes.get(vm.node);
    if (n.standby) {
      await wakeNode({ chain: this.chain, bus: await this.ctx.bus() }, n.nodeId, { onProgress: progress });
      n = await this.nodes.get(vm.node);
    }
    if (!n.up) throw new NoCapacityError(`node ${vm.node} is not answering`, { details: { nodeId: vm.node }, hint: "pick another node (`zgrid nodes ls`) or leave --node out" });
    if (need.mru > n.free.mru) throw new NoCapacityError(`node ${vm.node} has ${formatBytes(n.free.mru)} memory free, the VM needs ${formatBytes(need.mru)}`, { details: { nodeId: vm.node, free: n.free }, hint: "ask for less or leave --node out" });
    if (vm.public_ip && n.freePublicIps < 1) throw new NoCapacityError(`the farm of node ${vm.node} has no free public IP`, { details: { nodeId: vm.node, farmId: n.farmId }, hint: "leave --node out to find one, or ask the farmer for IPs" });
    if (vm.public_ip6 && !n.ipv6) throw new NoCapacityError(`node ${vm.node} has no public IPv6 range`, { details: { nodeId: vm.node, farmId: n.farmId }, hint: "leave --node out to find a node with one, or ask the farmer for a v6 range" });
    if (need.cru > n.free.cru || need.sru > n.free.sru) throw new NoCapacityError(`node ${vm.node} lacks the CPU or disk the VM needs`, { details: { nodeId: vm.node, free: n.free, need } });
    return n;
  }

  private fetchDeployment(nodeId: number, contractId: number): Promise<Deployment> {
    return this.reader.fetchDeployment(nodeId, contractId);
  }

  private describe(...a: Parameters<VmReader["describe"]>): Promise<VmInfo> {
    return this.reader.describe(...a);
  }
}

/** Fetches the flist's header; FlistNotFoundError when the hub does not have it. */
export async function checkFlist(url: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (e) {
    throw new FlistNotFoundError(url, `cannot connect: ${(e as Error).message}`);
  }
  await res.body?.cancel();
  if (!res.ok) throw new FlistNotFoundError(url, `HTTP ${res.status}`);
}
