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
 * Everything else is one level-based `reconcile(contractId)` (like a controller-runtime
 * reconciler): desired = the contract on chain + the stored deployment, actual = what runs. Start-up
 * adoption, chain events, the periodic pass and the liveness watch only enqueue contract ids; a
 * reconcile adopts (checks and repairs) or re-provisions every live workload, removes what a
 * deleted contract held, pauses/resumes to the contract's state and re-reports used resources
 * when the chain's differ. It runs on the contract's own queue and never waits for another's.
 *
 * @example
 * ```ts
 * const engine = new ProvisionEngine({ nodeId, chain, store, managers, totalCapacity, log });
 * await engine.deploy(senderTwin, rawDeployment);
 * engine.get(senderTwin, contractId);
 * await engine.reconcile(contractId);  // converge one contract (coalesced while one is queued)
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
import type { ChainContract, ChainResources, NodeChain } from "./node-chain.ts";
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

/** Result states of a workload that should be running (adopted, repaired or re-provisioned). */
const LIVE = new Set(["ok", "paused", "unchanged"]);

export class ProvisionEngine {
  readonly queue = new KeyedQueue();
  private readonly o: EngineOptions;
  /** Reconciles queued and not started yet, by contract (coalescing). */
  private readonly pending = new Map<number, Promise<void>>();
  /** Workloads this process has adopted or provisioned (`contract/name/version`): checked again only when not alive. */
  private readonly adopted = new Set<string>();
  /** One per contract with work in flight: a cancel/delete aborts that contract's install. */
  private readonly aborts = new Map<number, AbortController>();

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
      // A workload updated in place keeps its result's data while the update runs (its network's
      // namespace, its VM's IP are still there): what refers to it — a gateway's network — never
      // sees it vanish mid-update (a gateway read "backend network gone" and dropped requests).
      const inPlace = (w: Workload) => plan.updated.some((u) => u.name === w.name) && LIVE.has(keep.get(w.name)?.state ?? "") && keep.get(w.name)?.data !== undefined;
      const accepted = withResults(next, (w) => (plan.unchanged.some((u) => u.name === w.name) && keep.get(w.name)) || { created: now(), state: "init", message: "", ...(inPlace(w) ? { data: keep.get(w.name)!.data } : {}) });
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

  /**
   * Records what the owner did to a running workload (vm stop/start/restart): its state and
   * message, its result data kept. Only for workloads of a live deployment.
   */
  noteWorkload(contractId: number, name: string, state: "ok" | "error", message: string): void {
    const d = this.o.store.get(contractId);
    const w = d?.workloads.find((x) => x.name === name);
    if (!d || !w?.result || isDeleted(d) || w.result.state === "deleted") return;
    this.setResult(d, w, { ...w.result, created: now(), state, message });
    if (state === "ok") this.adopted.delete(this.adoptKey(d, w));
  }

  /**
   * Merges `data` into a live workload's result data (what the node observed since: a VM's health),
   * its state, message and time kept. Ignored for a workload not provisioned (no result data) or
   * deleted.
   */
  noteResultData(contractId: number, name: string, data: Record<string, unknown>): void {
    const d = this.o.store.get(contractId);
    const w = d?.workloads.find((x) => x.name === name);
    if (!d || !w?.result || isDeleted(d) || w.result.state === "deleted") return;
    const cur = w.result.data;
    if (!cur || typeof cur !== "object") return;
    this.setResult(d, w, { ...w.result, data: { ...(cur as Record<string, unknown>), ...data } });
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
   * Converges one contract (see the file comment). Coalesced: while a reconcile of the contract is
   * queued and not started, asking again returns that one. Never throws.
   */
  reconcile(contractId: number): Promise<void> {
    const queued = this.pending.get(contractId);
    if (queued) return queued;
    const run = this.queue.run(contractId, async () => {
      this.pending.delete(contractId);
      await this.converge(contractId);
    }).catch((e: unknown) => this.o.log.error({ contract: contractId, err: e }, "reconcile failed"));
    this.pending.set(contractId, run);
    return run;
  }

  /**
   * Aborts the contract's install in flight (its contract was cancelled): a hung fetch never holds
   * the removal the next reconcile does. Not queued: it acts at once.
   */
  abort(contractId: number, reason: string): void {
    this.aborts.get(contractId)?.abort(new Error(`contract ${contractId}: ${reason}`));
  }

  /**
   * Reconciles the contract checking every workload again (adopt), also those this process already
   * adopted: for news about a workload (the VM monitor gave up on its VM).
   */
  recheck(contractId: number): Promise<void> {
    for (const k of [...this.adopted]) if (k.startsWith(`${contractId}/`)) this.adopted.delete(k);
    return this.reconcile(contractId);
  }

  /** Enqueues a reconcile of every stored live deployment; resolves when all are done. */
  async reconcileAll(): Promise<void> {
    await Promise.all(this.o.store.list().filter((d) => !isDeleted(d)).map((d) => this.reconcile(d.contract_id)));
  }

  /**
   * Cheap liveness pass (the VM monitor's tick): every live workload whose manager can tell
   * (`alive`) and says a process it needs is gone gets its contract reconciled (adopt repairs).
   */
  async watchLiveness(): Promise<void> {
    for (const d of this.o.store.list()) {
      if (isDeleted(d)) continue;
      for (const w of d.workloads) {
        const m = this.manager(w);
        if (w.result?.state === "error" && m?.recoverable && await m.recoverable(this.context(d, w), w as never).catch(() => false)) {
          this.o.log.info({ contract: d.contract_id, workload: w.name }, "what the failed workload needed is back: reconciling");
          void this.reconcile(d.contract_id);
          break;
        }
        if (!m?.alive || !LIVE.has(w.result?.state ?? "")) continue;
        const ok = await m.alive(this.context(d, w), w as never).catch(() => false);
        if (!ok) {
          this.adopted.delete(this.adoptKey(d, w));
          this.o.log.warn({ contract: d.contract_id, workload: w.name }, "a process of the workload is gone: reconciling");
          void this.reconcile(d.contract_id);
          break;
        }
      }
    }
  }

  private async converge(contractId: number): Promise<void> {
    const d = this.o.store.get(contractId);
    if (!d || isDeleted(d)) return;
    let contract: ChainContract | undefined;
    try {
      contract = await this.o.chain.getContract(contractId);
    } catch (e) {
      this.o.log.warn({ contract: contractId, err: e }, "reconcile: could not read the contract; checking the workloads only");
    }
    if (contract && (contract.state === "deleted" || contract.nodeId !== this.o.nodeId)) {
      this.o.log.info({ contract: contractId }, "deprovisioning deployment");
      this.aborts.get(contractId)?.abort(new Error(`contract ${contractId} is deleted`));
      await this.uninstall(d, d.workloads.filter((w) => w.result?.state !== "deleted"), contract.state === "deleted" ? "contract cancelled on chain" : "contract moved off this node");
      this.aborts.delete(contractId);
      return;
    }
    const lost: Workload[] = [];
    for (const w of sortForInstall(d.workloads)) {
      const state = w.result?.state;
      if (state === "init") lost.push(w);
      const m = this.manager(w);
      if (state === "error" && m?.recoverable && await m.recoverable(this.context(d, w), w as never).catch(() => false)) lost.push(w);
      if (!LIVE.has(state ?? "")) continue;
      const key = this.adoptKey(d, w);
      if (!m?.adopt || this.adopted.has(key)) continue;
      try {
        if (await m.adopt(this.context(d, w), w as never)) this.adopted.add(key);
        else lost.push(w);
      } catch (e) {
        // the result's data (the VM's console, its IP) stays: the owner reads why it failed there
        this.setResult(d, w, { ...(w.result as WorkloadResult), created: now(), state: "error", message: e instanceof Error ? e.message : String(e) });
      }
    }
    if (lost.length > 0) {
      this.o.log.warn({ contract: contractId, workloads: lost.map((w) => w.name) }, "re-provisioning workloads that are gone");
      await this.install(d, lost);
    }
    if (contract) {
      await this.applyPaused(contractId, contract.state === "grace_period");
      await this.reportUsage(d, contract.used);
    }
  }

  /** Pauses (grace period) or resumes (funds back) the deployment's workloads that can. */
  private async applyPaused(contractId: number, paused: boolean): Promise<void> {
    const d = this.o.store.get(contractId);
    if (!d || isDeleted(d)) return;
    for (const w of d.workloads) {
      const m = this.manager(w);
      const state = w.result?.state;
      const action = paused ? m?.pause : m?.resume;
      if (!action || (paused ? state !== "ok" && state !== "unchanged" : state !== "paused")) continue;
      try {
        await action.call(m, this.context(d, w), w as never);
        this.setResult(d, w, { ...(w.result as WorkloadResult), state: paused ? "paused" : "ok", message: paused ? "contract in grace period: paused until funds are back" : "" });
      } catch (e) {
        this.o.log.error({ contract: contractId, workload: w.name, err: e }, paused ? "pause failed" : "resume failed");
      }
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
        const ctx = { ...this.context(d, w), signal };
        // A changed workload whose manager cannot update in place is restarted with its new data:
        // the old instance removed, the new one provisioned; the deployment's other workloads
        // (its disks) are not touched.
        const restart = !!before && !m.update;
        let restarted = false;
        try {
          let work: Promise<unknown>;
          if (before && m.update) work = m.update(ctx, w as never, before as never);
          else if (restart) {
            work = (async () => {
              this.o.log.info({ contract: d.contract_id, workload: w.name }, "restarting the workload with its new data");
              await m.deprovision(ctx, before as never);
              restarted = true;
              return m.provision(ctx, w as never);
            })();
          } else work = m.provision(ctx, w as never);
          const data = await untilAborted(work, signal, () => `provisioning took longer than ${Math.round(limit / 1000)} s`);
          result = { created: now(), state: "ok", message: "", data };
          this.adopted.add(this.adoptKey(d, w));
        } catch (e) {
          const message = e instanceof Error ? e.message : String(e);
          this.o.log.warn({ contract: d.contract_id, workload: w.name, err: e }, before ? "workload update refused" : "workload failed");
          if (before && restarted && LIVE.has(before.result?.state ?? "") && !contract.signal.aborted) {
            // The new data did not come up: the previous one is provisioned again (its disks were kept).
            const back = await this.provisionPrevious(ctx, m, d, w, before);
            if (back) {
              this.restore(d, before, { ...(before.result as WorkloadResult), created: now(), state: "unchanged", message: `update failed, previous version running again: ${message}`, data: back.data });
              continue;
            }
          }
          if (before && !restarted && LIVE.has(before.result?.state ?? "")) {
            // A refused update leaves the workload as it was: its old data, result and capacity.
            this.restore(d, before, { ...(before.result as WorkloadResult), created: now(), state: "unchanged", message: `update refused: ${message}` });
            continue;
          }
          result = { created: now(), state: "error", message };
        }
      }
      this.setResult(d, w, result);
    }
    await this.reportUsage(d);
  }

  /** After a failed restart-update: `before` provisioned again; undefined when that fails too. */
  private async provisionPrevious(ctx: WorkloadContext, m: WorkloadManager, d: Deployment, w: Workload, before: Workload): Promise<{ data: unknown } | undefined> {
    try {
      await m.deprovision(ctx, w as never).catch(() => undefined);
      const contract = this.aborts.get(d.contract_id)?.signal;
      const signal = AbortSignal.any([...(contract ? [contract] : []), AbortSignal.timeout(this.o.installTimeoutMs ?? 600_000)]);
      return { data: await m.provision({ ...ctx, signal }, before as never) };
    } catch (e) {
      this.o.log.error({ contract: d.contract_id, workload: w.name, err: e }, "the previous version did not come up again either");
      return undefined;
    }
  }

  /** Puts the stored workload back to `before` (data and version) with `result`. */
  private restore(d: Deployment, before: Workload, result: WorkloadResult): void {
    const fresh = this.o.store.get(d.contract_id) ?? d;
    fresh.workloads = fresh.workloads.map((x) => (x.name === before.name ? ({ ...before, result } as Workload) : x));
    this.o.store.put(fresh);
    this.record(fresh, { ...before, result } as Workload);
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
      this.adopted.delete(this.adoptKey(d, w));
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

  /** Reports what the deployment holds; with `reported` (the chain's figures) only when they differ. */
  private async reportUsage(d: Deployment, reported?: ChainResources): Promise<void> {
    const fresh = this.o.store.get(d.contract_id) ?? d;
    if (isDeleted(fresh)) return; // the contract is gone: nothing to report
    const used = usedCapacity([fresh]);
    const next = { cru: BigInt(used.cru), mru: BigInt(used.mru), sru: BigInt(used.sru), hru: BigInt(used.hru) };
    if (reported && next.cru === reported.cru && next.mru === reported.mru && next.sru === reported.sru && next.hru === reported.hru) return;
    try {
      await this.o.chain.reportContractResources(d.contract_id, next);
    } catch (e) {
      // The next reconcile sees the chain's figures differ and reports again.
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

  private adoptKey(d: Deployment, w: Workload): string {
    return `${d.contract_id}/${w.name}/${w.version}`;
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
