/**
 * Deploys one deployment on one node the way REFERENCE.md's client does: validate -> contract ->
 * sign -> send over the bus -> wait for every workload with progress. A `DeployTransaction` keeps
 * every contract it made, and `rollback()` cancels them all: a failure or Ctrl-C leaks nothing.
 *
 * @example
 * ```ts
 * const tx = new DeployTransaction(grid);
 * try { await tx.deploy({ nodeId, workloads, metadata, signal, onProgress }); }
 * catch (e) { await tx.rollback(); throw e; }
 * ```
 */
import type { Bus } from "@zgrid/bus";
import type { GridClient } from "@zgrid/chain";
import { createLogger } from "@zgrid/log";
import { BaseError, deploymentHashHex, parseDeployment, signDeployment, type Deployment, type TwinKey } from "@zgrid/types";
import { DeployAbortedError, DeployFailedError } from "../errors/client-errors.ts";
import { nodeClient } from "../nodes/node-client.ts";

const log = createLogger("client.deployer");

export interface DeployContext {
  chain: GridClient;
  key: TwinKey;
  twinId: number;
  bus(): Promise<Bus>;
}

export type ProgressFn = (message: string) => void;

export interface DeployRequest {
  nodeId: number;
  nodeTwinId: number;
  workloads: unknown[];
  /** Stored on the contract (≤ 512 bytes) and on the deployment. */
  metadata: string;
  /** Public IPv4s to reserve from the node's farm on the contract (for `ip` workloads). */
  publicIps?: number;
  /** Networks of this twin on the node the deployment may use without defining them. */
  externalNetworks?: string[];
  signal?: AbortSignal;
  onProgress?: ProgressFn;
  timeoutMs?: number;
}

export class DeployTransaction {
  readonly created: number[] = [];
  private readonly ctx: DeployContext;

  constructor(ctx: DeployContext) {
    this.ctx = ctx;
  }

  /** Contract, sign, send, wait until every workload is ok; throws DeployFailedError otherwise. */
  async deploy(r: DeployRequest): Promise<Deployment> {
    const progress = r.onProgress ?? (() => undefined);
    const json = {
      version: 0, twin_id: this.ctx.twinId, contract_id: 0, metadata: r.metadata, description: "",
      signature_requirement: { requests: [{ twin_id: this.ctx.twinId, required: true, weight: 1 }], weight_required: 1 },
      workloads: r.workloads,
    };
    const d = parseDeployment(json, { externalNetworks: r.externalNetworks ?? [] });
    checkAborted(r.signal);
    progress(`creating a contract on node ${r.nodeId}`);
    const contractId = await this.ctx.chain.createNodeContract({ nodeId: r.nodeId, deploymentHash: deploymentHashHex(d), metadata: r.metadata, ...(r.publicIps ? { publicIps: r.publicIps } : {}) });
    this.created.push(contractId);
    checkAborted(r.signal);
    const signed = signDeployment({ ...d, contract_id: contractId }, this.ctx.twinId, this.ctx.key);
    progress(`sending deployment ${contractId} to node ${r.nodeId}`);
    const bus = await this.ctx.bus();
    try {
      await nodeClient(bus, r.nodeTwinId).deploy(signed, { timeout: 30_000 });
    } catch (e) {
      const why = e instanceof BaseError ? e.shortMessage : String(e);
      throw new DeployFailedError(`node ${r.nodeId} refused the deployment: ${why}`, { cause: e, details: { nodeId: r.nodeId, contractId, code: (e as { code?: string }).code }, hint: hintFor((e as { code?: string }).code) });
    }
    return this.wait(r.nodeTwinId, r.nodeId, contractId, progress, r.signal, r.timeoutMs ?? 180_000);
  }

  /**
   * Updates a live deployment in place (network, zmount, volume, zdb, zmachine: the node restarts a changed VM, disks kept): version + 1,
   * changed workloads carry the new version, the contract gets the new hash, then the node.
   * `externalNetworks` as for deploy: networks of this twin the workloads use without defining them
   * (a name gateway's backend network) — without it the update of such a deployment is refused.
   */
  async update(r: {
    nodeId: number; nodeTwinId: number; current: Deployment; workloads: Array<{ name: string; type: string; data: unknown }>;
    /** New contract/deployment metadata (default: the current one). */
    metadata?: string;
    externalNetworks?: string[];
    onProgress?: ProgressFn; signal?: AbortSignal; timeoutMs?: number;
  }): Promise<Deployment> {
    const version = r.current.version + 1;
    const old = new Map(r.current.workloads.map((w) => [w.name, w]));
    const workloads = r.workloads.map((w) => {
      const before = old.get(w.name);
      const same = before && JSON.stringify(before.data) === JSON.stringify(w.data);
      return { version: same ? before.version : version, name: w.name, type: w.type, data: w.data, description: before?.description ?? "", metadata: before?.metadata ?? "" };
    });
    const metadata = r.metadata ?? r.current.metadata;
    const next = parseDeployment({
      version, twin_id: this.ctx.twinId, contract_id: r.current.contract_id, metadata, description: r.current.description,
      signature_requirement: { requests: [{ twin_id: this.ctx.twinId, required: true, weight: 1 }], weight_required: 1 }, workloads,
    }, { externalNetworks: r.externalNetworks ?? [] });
    checkAborted(r.signal);
    r.onProgress?.(`updating deployment ${r.current.contract_id} on node ${r.nodeId} (version ${version})`);
    await this.ctx.chain.updateNodeContract(r.current.contract_id, { deploymentHash: deploymentHashHex(next), metadata });
    const bus = await this.ctx.bus();
    try {
      await nodeClient(bus, r.nodeTwinId).update(signDeployment(next, this.ctx.twinId, this.ctx.key), { timeout: 30_000 });
    } catch (e) {
      const why = e instanceof BaseError ? e.shortMessage : String(e);
      throw new DeployFailedError(`node ${r.nodeId} refused the update of deployment ${r.current.contract_id}: ${why}`, { cause: e, details: { nodeId: r.nodeId, contractId: r.current.contract_id }, hint: hintFor((e as { code?: string }).code) });
    }
    return this.wait(r.nodeTwinId, r.nodeId, r.current.contract_id, r.onProgress ?? (() => undefined), r.signal, r.timeoutMs ?? 180_000, version, new Set(workloads.filter((w) => w.version === version).map((w) => w.name)));
  }

  /** Cancels every contract this transaction made (newest first); errors are logged, not thrown. */
  async rollback(onProgress?: ProgressFn): Promise<number[]> {
    const cancelled: number[] = [];
    for (const id of [...this.created].reverse()) {
      try {
        onProgress?.(`rolling back: cancelling contract ${id}`);
        await this.ctx.chain.cancelContract(id);
        cancelled.push(id);
      } catch (e) {
        log.warn({ contractId: id, err: String(e) }, "rollback: cancel failed");
      }
    }
    this.created.length = 0;
    return cancelled;
  }

  private async wait(nodeTwin: number, nodeId: number, contractId: number, progress: ProgressFn, signal: AbortSignal | undefined, timeoutMs: number, version = 0, changed?: ReadonlySet<string>): Promise<Deployment> {
    const update = changed !== undefined;
    const node = nodeClient(await this.ctx.bus(), nodeTwin);
    const seen = new Map<string, string>();
    const end = Date.now() + timeoutMs;
    while (true) {
      checkAborted(signal);
      const d = await node.get(contractId, { timeout: 20_000 });
      for (const w of d.workloads) {
        const state = w.result?.state ?? "init";
        if (seen.get(w.name) !== state) progress(`${w.type} '${w.name}': ${state}${w.result?.message ? ` (${w.result.message})` : ""}`);
        seen.set(w.name, state);
      }
      const failed = d.workloads.find((w) => w.result?.state === "error" || (d.version >= version && changed?.has(w.name) && w.result?.state === "unchanged"));
      if (failed && update) {
        throw new DeployFailedError(`update of '${failed.name}' (${failed.type}) on node ${nodeId} failed: ${failed.result?.message ?? "no message"}`, {
          details: { nodeId, contractId, workload: failed.name, state: failed.result?.state }, hint: "fix the input and apply again; the contract was kept",
        });
      }
      if (failed) {
        throw new DeployFailedError(`workload '${failed.name}' (${failed.type}) failed on node ${nodeId}: ${failed.result?.message ?? "no message"}`, {
          details: { nodeId, contractId, workload: failed.name }, hint: "fix the input and deploy again; the contracts made were cancelled",
        });
      }
      if (d.version >= version && d.workloads.every((w) => w.result?.state === "ok" || (update && w.result?.state === "unchanged"))) return d;
      if (Date.now() > end) throw new DeployFailedError(`deployment ${contractId} on node ${nodeId} did not become ready in ${timeoutMs / 1000} s`, { details: { nodeId, contractId }, hint: "look at the node's log; the contracts made were cancelled" });
      await sleep(400, signal);
    }
  }
}

function hintFor(code: string | undefined): string {
  switch (code) {
    case "INSUFFICIENT_CAPACITY": return "pick another node (`zgrid nodes ls`) or ask for less";
    case "VALIDATION": return "fix the field named in the message";
    default: return "the contract made for it was cancelled; fix the cause and deploy again";
  }
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new DeployAbortedError("deploy interrupted", { hint: "every contract made for it was cancelled; run the command again" });
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => { clearTimeout(t); resolve(); }, { once: true });
  });
}
