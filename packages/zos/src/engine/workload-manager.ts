/**
 * What a primitive (one folder per workload type under primitives/) implements. A manager must
 * provision and deprovision; update, pause and resume are optional abilities the engine detects.
 * A manager throws to fail its workload: the engine records the error as the workload's result.
 */
import type { Logger } from "@zgrid/log";
import type { Deployment, Workload, WorkloadTypeName } from "@zgrid/types";

export interface WorkloadContext {
  deployment: Deployment;
  /** `<twin>-<contract>-<name>` */
  workloadId: string;
  log: Logger;
  /** Results of workloads of the same deployment provisioned earlier in this pass (by name). */
  resultOf(name: string): unknown;
  /** Aborted when the contract is cancelled or deleted, or the workload's install deadline passes. */
  signal?: AbortSignal;
}

export interface WorkloadManager<W extends Workload = Workload> {
  /** Creates the workload (idempotent: called again after a restart); returns its result data. */
  provision(ctx: WorkloadContext, w: W): Promise<unknown>;
  /** Removes everything the workload created (idempotent, also for half-provisioned workloads). */
  deprovision(ctx: WorkloadContext, w: W): Promise<void>;
  update?(ctx: WorkloadContext, w: W, previous: W): Promise<unknown>;
  pause?(ctx: WorkloadContext, w: W): Promise<void>;
  resume?(ctx: WorkloadContext, w: W): Promise<void>;
  /**
   * Checks the real thing (processes, mounts, namespaces, links) and repairs what it can in place;
   * returns false when the workload is gone (the engine provisions it again). Throws when the
   * workload failed for good (the error becomes its result). Called after a daemon restart and by
   * every reconcile of the contract.
   */
  adopt?(ctx: WorkloadContext, w: W): Promise<boolean>;
  /**
   * Cheap liveness of the processes the workload needs (no repair, no process spawned): polled
   * every few seconds; false makes the engine reconcile the contract (adopt repairs).
   */
  alive?(ctx: WorkloadContext, w: W): Promise<boolean>;
  /**
   * For a workload in error because something it references was gone (a gateway's network): has
   * it come back? Cheap (no I/O beyond the store), polled with `alive`; true makes the engine
   * provision the workload again (level-based recovery).
   */
  recoverable?(ctx: WorkloadContext, w: W): Promise<boolean>;
}

export type ManagerMap = Partial<{ [K in WorkloadTypeName]: WorkloadManager<Extract<Workload, { type: K }>> }>;
