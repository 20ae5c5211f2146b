/**
 * The provision engine: verifies deployments (verify-deployment.ts), checks capacity, records
 * them, and drives the primitives in install order (uninstall in reverse), recording every state
 * change. Deploy/update answer as soon as the deployment is accepted; provisioning runs in a
 * per-contract queue and the client follows it with get/changes.
 *
 * Refusals before acceptance (validation, twin, signature, contract, capacity) are thrown to the
 * caller and nothing is stored: storing an unauthenticated deployment would let anyone write to
 * the node's database or squat a contract id. Failures after acceptance are workload results.
 *
 * @example
 * ```ts
 * const engine = new ProvisionEngine({ nodeId, chain, store, managers, totalCapacity, log });
 * await engine.deploy(senderTwin, rawDeployment);
 * engine.get(senderTwin, contractId);
 * ```
 */
import type { Logger } from "@zgrid/log";
import {
  formatBytes, formatCapacity, missingCapacity, planUpdate, sortForInstall, sortForUninstall,
  workloadId, type Capacity, type Deployment, type Workload, type WorkloadResult,
} from "@zgrid/types";
import { freeCapacity, usedCapacity } from "./capacity-ledger.ts";
import { checkTwinQuota, DEFAULT_TWIN_QUOTAS, type TwinQuotas } from "./twin-quota.ts";
import type { DeploymentStore, WorkloadChange } from "./deployment-store.ts";
import { DeploymentConflictError, DeploymentNotFoundError, InsufficientCapacityError } from "./engine-errors.ts";
import type { NodeChain } from "./node-chain.ts";
import { verifyDeployment } from "./verify-deployment.ts";
import { KeyedQueue } from "./work-queue.ts";
import type { ManagerMap, WorkloadContext, WorkloadManager } from "./workload-manager.ts";

export interface EngineOptions {
  nodeId: number;
  chain: NodeChain;
  store: DeploymentStore;
  managers: ManagerMap;
  /** Measured total capacity of the node. */
  totalCapacity: Capacity;
  log: Logger;
  /** Deadline of one workload's provision/update (default 10 min); then it fails and the queue moves on. */
  installTimeoutMs?: number;
  /** Per-twin limits (networks, gateways, zmachines, zlogs); default DEFAULT_TWIN_QUOTAS. */
  quotas?: TwinQuotas;
}

const now = () => Math.floor(Date.now() / 1000);

export class ProvisionEngine {
  readonly queue = new KeyedQueue();
  private readonly o: EngineOptions;
  /** One per contract with work in flight: a cancel/delete aborts that contract's install. */
  private readonly aborts = new Map<number, AbortController>();
  private readonly deprovisioning = new Set<number>();

  constructor(options: EngineOptions) {
    this.o = options;
  }

  /** Verifies and accepts a new deployment; provisioning continues in the background. */
  async deploy(sender: number, raw: unknown): Promise<{ contract_id: number; accepted: true }> {
    const { deployment: d } = await verifyDeployment(raw, this.verifyOptions(sender));
    return this.queue.run(d.contract_id, async () => {
      const existing = this.o.store.get(d.contract_id);
      if (existing && !isDeleted(existing)) {
        throw new DeploymentConflictError(`contract ${d.contract_id} is already deployed on this node`, { hint: "use zos.deployment.update with version + 1" });
      }
      this.ensureFits(usedCapacity([d]), d.contract_id);
      this.ensureQuota(d);
      const accepted = withResults(d, () => ({ created: now(), state: "init", message: "" }));
      this.o.store.put(accepted);
      for (const w of accepted.workloads) this.record(accepted, w);
      void this.queue.run(d.contract_id, () => this.install(accepted, accepted.workloads));
      return { contract_id: d.contract_id, accepted: true as const };
    });
  }

  /** Verifies an update (version + 1, REFERENCE.md rules) and applies it in the background. */
  async update(sender: number, raw: unknown): Promise<{ contract_id: number; accepted: true }> {
    const { deployment: next } = await verifyDeployment(raw, this.verifyOptions(sender));
    return this.queue.run(next.contract_id, async () => {
      const current = this.o.store.get(next.contract_id);
      if (!current || isDeleted(current)) throw new DeploymentNotFoundError(next.contract_id, { hint: "deploy it first with zos.deployment.deploy" });
      const plan = planUpdate(current, next);
      this.ensureFits(usedCapacity([next]), next.contract_id);
      this.ensureQuota(next);
      const keep = new Map(current.workloads.map((w) => [w.name, w.result]));
      const accepted = withResults(next, (w) => (plan.unchanged.some((u) => u.name === w.name) && keep.get(w.name)) || { created: now(), state: "init", message: "" });
      this.o.store.put({ ...accepted, workloads: [...accepted.workloads, ...plan.removed] });
      void this.queue.run(next.contract_id, async () => {
        await this.uninstall(accepted, plan.removed);
        const fresh = this.o.store.get(next.contract_id);
        if (fresh) this.o.store.put({ ...fresh, workloads: fresh.workloads.filter((w) => !plan.removed.some((r) => r.name === w.name)) });
        const previous = new Map(current.workloads.map((w) => [w.name, w]));
        await this.install(accepted, [...plan.updated, ...plan.added], previous);
      });
      return { contract_id: next.contract_id, accepted: true as const };
    });
  }

  /** The caller's deployment with its results. */
  get(sender: number, contractId: number): Deployment {
    const d = this.o.store.get(contractId);
    if (!d || d.twin_id !== sender) throw new DeploymentNotFoundError(contractId);
    return d;
  }

  list(sender: number): Deployment[] {
    return this.o.store.list({ twinId: sender });
  }

  changes(sender: number, contractId: number): WorkloadChange[] {
    this.get(sender, contractId);
    return this.o.store.changes(contractId);
  }

  /**
   * Removes every workload of a deployment (contract cancelled or deleted on chain). An install
   * of this contract still in flight is aborted first, so a hung fetch never holds the removal.
   * A second call while one is queued joins it.
   */
  deprovision(contractId: number, reason: string): Promise<void> {
    this.aborts.get(contractId)?.abort(new Error(`contract ${contractId}: ${reason}`));
    if (this.deprovisioning.has(contractId)) return this.queue.run(contractId, async () => undefined);
    this.deprovisioning.add(contractId);
    return this.queue.run(contractId, async () => {
      try {
        const d = this.o.store.get(contractId);
        if (!d || isDeleted(d)) return;
        this.o.log.info({ contract: contractId, reason }, "deprovisioning deployment");
        await this.uninstall(d, d.workloads, reason);
      } finally {
        this.deprovisioning.delete(contractId);
        this.aborts.delete(contractId);
      }
    });
  }

  /** Pauses (grace period) or resumes (funds back) the deployment's workloads that can. */
  setPaused(contractId: number, paused: boolean): Promise<void> {
    return this.queue.run(contractId, async () => {
      const d = this.o.store.get(contractId);
      if (!d || isDeleted(d)) return;
      for (const w of d.workloads) {
        const m = this.manager(w);
        const state = w.result?.state;
        const action = paused ? m?.pause : m?.resume;
        if (!action || (paused ? state !== "ok" : state !== "paused")) continue;
        try {
          await action.call(m, this.context(d, w), w as never);
          this.setResult(d, w, { ...(w.result as WorkloadResult), state: paused ? "paused" : "ok", message: paused ? "contract in grace period: paused until funds are back" : "" });
        } catch (e) {
          this.o.log.error({ contract: contractId, workload: w.name, err: e }, paused ? "pause failed" : "resume failed");
        }
      }
      this.o.store.put(d);
    });
  }

  /** Records a workload failure found outside provisioning (the VM monitor gave up). */
  markFailed(workloadIdText: string, message: string): Promise<void> {
    const m = /^(\d+)-(\d+)-(.+)$/.exec(workloadIdText);
    if (!m) return Promise.resolve();
    const contractId = Number(m[2]);
    return this.queue.run(contractId, async () => {
      const d = this.o.store.get(contractId);
      const w = d?.workloads.find((x) => x.name === m[3]);
      if (d && w && w.result?.state !== "deleted") this.setResult(d, w, { created: now(), state: "error", message });
    });
  }

  /** After a daemon restart: re-attach live workloads; re-provision what is gone. */
  async adoptAll(): Promise<void> {
    for (const d of this.o.store.list()) {
      if (isDeleted(d)) continue;
      await this.queue.run(d.contract_id, async () => {
        const lost: Workload[] = [];
        for (const w of d.workloads) {
          const state = w.result?.state;
          if (state !== "ok" && state !== "paused" && state !== "init") continue;
          const m = this.manager(w);
          const alive = state !== "init" && m?.adopt ? await m.adopt(this.context(d, w), w as never).catch(() => false) : state !== "init";
          if (!alive) lost.push(w);
        }
        if (lost.length > 0) {
          this.o.log.warn({ contract: d.contract_id, workloads: lost.map((w) => w.name) }, "re-provisioning workloads lost while the daemon was down");
          await this.install(d, lost);
        }
      });
    }
  }

  private async install(d: Deployment, workloads: readonly Workload[], previous?: Map<string, Workload>): Promise<void> {
    const contract = this.aborts.get(d.contract_id) ?? new AbortController();
    this.aborts.set(d.contract_id, contract);
    for (const w of sortForInstall(workloads)) {
      const m = this.manager(w);
      const before = previous?.get(w.name);
      let result: WorkloadResult;
      if (!m) {
        result = { created: now(), state: "error", message: `workload type '${w.type}' is not supported by this node` };
      } else if (contract.signal.aborted) {
        result = { created: now(), state: "error", message: `not provisioned: ${(contract.signal.reason as Error).message}` };
      } else {
        const limit = this.o.installTimeoutMs ?? 600_000;
        const signal = AbortSignal.any([contract.signal, AbortSignal.timeout(limit)]);
        try {
          const ctx = { ...this.context(d, w), signal };
          const work = before && m.update ? m.update(ctx, w as never, before as never) : m.provision(ctx, w as never);
          const data = await untilAborted(work, signal, () => `provisioning took longer than ${Math.round(limit / 1000)} s`);
          result = { created: now(), state: "ok", message: "", data };
        } catch (e) {
          this.o.log.warn({ contract: d.contract_id, workload: w.name, err: e }, "workload failed");
          result = { created: now(), state: "error", message: e instanceof Error ? e.message : String(e) };
        }
      }
      this.setResult(d, w, result);
    }
    await this.reportUsage(d);
  }

  private async uninstall(d: Deployment, workloads: readonly Workload[], reason = "removed"): Promise<void> {
    for (const w of sortForUninstall(workloads)) {
      const m = this.manager(w);
      let message = reason;
      try {
        await m?.deprovision(this.context(d, w), w as never);
      } catch (e) {
        message = `${reason}; cleanup failed: ${e instanceof Error ? e.message : String(e)}`;
        this.o.log.error({ contract: d.contract_id, workload: w.name, err: e }, "deprovision failed");
      }
      this.setResult(d, w, { created: now(), state: "deleted", message });
    }
    await this.reportUsage(d);
  }

  private setResult(d: Deployment, w: Workload, result: WorkloadResult): void {
    const fresh = this.o.store.get(d.contract_id) ?? d;
    const target = fresh.workloads.find((x) => x.name === w.name) ?? w;
    target.result = result;
    w.result = result;
    this.o.store.put(fresh);
    this.record(fresh, target);
  }

  private record(d: Deployment, w: Workload): void {
    const r = w.result;
    if (!r) return;
    this.o.store.recordChange({ contract_id: d.contract_id, name: w.name, type: w.type, version: w.version, state: r.state, message: r.message, at: r.created });
  }

  private async reportUsage(d: Deployment): Promise<void> {
    const fresh = this.o.store.get(d.contract_id) ?? d;
    if (isDeleted(fresh)) return; // the contract is gone: nothing to report
    const used = usedCapacity([fresh]);
    try {
      await this.o.chain.reportContractResources(d.contract_id, { cru: BigInt(used.cru), mru: BigInt(used.mru), sru: BigInt(used.sru), hru: BigInt(used.hru) });
    } catch (e) {
      // Reporting is retried by the reconciler; provisioning must not fail because the chain blinked.
      this.o.log.warn({ contract: d.contract_id, err: e }, "could not report used resources");
    }
  }

  /** Throws unless `need` fits next to every other deployment (an update replaces its own). */
  private ensureFits(need: Capacity, contractId: number): void {
    const others = this.o.store.list().filter((d) => d.contract_id !== contractId);
    const free = freeCapacity(this.o.totalCapacity, others);
    const missing = missingCapacity(need, free);
    if (missing.length === 0) return;
    const show = (r: string, n: number) => (r === "cru" ? `${n} cpu` : r === "ipv4u" ? `${n} ip` : formatBytes(n));
    const words = missing.map((m) => `${m.resource} needs ${show(m.resource, m.need)}, ${show(m.resource, m.free)} free`);
    throw new InsufficientCapacityError(`node ${this.o.nodeId} has not enough capacity: ${words.join("; ")}`, {
      details: { contract_id: contractId, need, free, missing },
      hint: `pick a node with ${formatCapacity(need)} free, or ask for less`,
    });
  }

  private ensureQuota(d: Deployment): void {
    const others = this.o.store.list({ twinId: d.twin_id }).filter((x) => x.contract_id !== d.contract_id && !isDeleted(x));
    checkTwinQuota(this.o.quotas ?? DEFAULT_TWIN_QUOTAS, others, d);
  }

  private verifyOptions(sender: number) {
    const networks = this.o.store.list({ twinId: sender }).filter((d) => !isDeleted(d))
      .flatMap((d) => d.workloads.filter((w) => w.type === "network" && w.result?.state === "ok").map((w) => w.name));
    return { sender, nodeId: this.o.nodeId, chain: this.o.chain, externalNetworks: networks };
  }

  private manager(w: Workload): WorkloadManager | undefined {
    return this.o.managers[w.type] as WorkloadManager | undefined;
  }

  private context(d: Deployment, w: Workload): WorkloadContext {
    const id = workloadId(d.twin_id, d.contract_id, w.name);
    return {
      deployment: d,
      workloadId: id,
      log: this.o.log.child({ contract: d.contract_id, workload: w.name, wid: id }),
      resultOf: (name) => (this.o.store.get(d.contract_id) ?? d).workloads.find((x) => x.name === name)?.result?.data,
    };
  }
}

/**
 * `work`, or a rejection as soon as `signal` aborts (the manager got the signal too; a manager
 * that ignores it can no longer hold the contract's queue).
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal, timeoutMessage: () => string): Promise<T> {
  work.catch(() => undefined);
  if (signal.aborted) return Promise.reject(abortError(signal, timeoutMessage));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal, timeoutMessage));
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function abortError(signal: AbortSignal, timeoutMessage: () => string): Error {
  const r: unknown = signal.reason;
  if (r instanceof DOMException && r.name === "TimeoutError") return new Error(timeoutMessage());
  return r instanceof Error ? r : new Error("aborted");
}

/** A deployment whose every workload is deleted. */
export function isDeleted(d: Deployment): boolean {
  return d.workloads.length > 0 && d.workloads.every((w) => w.result?.state === "deleted");
}

function withResults(d: Deployment, result: (w: Workload) => WorkloadResult): Deployment {
  return { ...d, workloads: d.workloads.map((w) => ({ ...w, result: result(w) }) as Workload) };
}
