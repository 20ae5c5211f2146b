/**
 * Keeps the node in line with the chain (DESIGN.md step 5), level-based like a controller: it only
 * tells the engine WHICH contract to look at (`engine.reconcile(id)`), never what to do:
 * - events, followed from a cursor saved on disk (so a restart misses nothing): a contract of this
 *   node deleted, in grace period or resumed -> reconcile it;
 * - a pass at start (start-up adoption) and every `intervalMs`: every stored deployment is
 *   reconciled (the engine compares it with its contract on chain and with what runs). A missed
 *   event is therefore repaired by the next pass.
 *
 * @example
 * ```ts
 * const sync = new ChainSync({ nodeId, chain, engine, store, cursorFile, log });
 * await sync.start(); … await sync.stop();
 * ```
 */
import { readFile, writeFile } from "node:fs/promises";
import type { Logger } from "@zgrid/log";
import type { DeploymentStore } from "../engine/deployment-store.ts";
import type { NodeChain } from "../engine/node-chain.ts";
import type { ProvisionEngine } from "../engine/provision-engine.ts";
import { withDeadline } from "./chain-deadline.ts";

export interface ChainEvent {
  eventName: string;
  args: unknown;
}

export interface WatchableChain extends NodeChain {
  getBlockNumber(): Promise<bigint>;
  watchEvents(params: { fromBlock: bigint; onEvents: (events: ChainEvent[], toBlock: bigint) => void | Promise<void>; onError?: (e: unknown) => void }): { stop(): Promise<void> };
}

export interface ChainSyncOptions {
  nodeId: number;
  chain: WatchableChain;
  engine: Pick<ProvisionEngine, "reconcile" | "reconcileAll" | "abort">;
  store: DeploymentStore;
  /** File holding the last handled block. */
  cursorFile: string;
  /** Reconcile period (default 10 min; REFERENCE.md resyncs hourly). */
  intervalMs?: number;
  /** How long stop() waits for the event watcher's poll in flight (default 10 s; a hung RPC never holds it). */
  stopTimeoutMs?: number;
  log: Logger;
}

/** Events that change what a node runs for a contract. */
const CONTRACT_EVENTS = new Set(["ContractDeleted", "ContractGracePeriodStarted", "ContractResumed", "ContractUpdated"]);

export class ChainSync {
  private readonly o: ChainSyncOptions;
  private watcher: { stop(): Promise<void> } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(options: ChainSyncOptions) {
    this.o = options;
  }

  async start(): Promise<void> {
    const saved = await readFile(this.o.cursorFile, "utf8").then((t) => BigInt(t.trim()), () => undefined);
    const from = saved !== undefined ? saved + 1n : await this.o.chain.getBlockNumber();
    void this.reconcile();
    this.watcher = this.o.chain.watchEvents({
      fromBlock: from,
      onEvents: async (events, toBlock) => {
        for (const e of events) await this.onEvent(e);
        await writeFile(this.o.cursorFile, `${toBlock}\n`);
      },
      onError: (e) => this.o.log.warn({ err: e }, "chain watch failed; retrying"),
    });
    this.timer = setInterval(() => void this.reconcile(), this.o.intervalMs ?? 600_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    const stopping = this.watcher?.stop();
    if (stopping) {
      await withDeadline(stopping, this.o.stopTimeoutMs ?? 10_000, "watchEvents.stop").catch((e: unknown) => {
        this.o.log.warn({ err: e }, "the chain event watcher is still waiting on the RPC; it ends on its own");
      });
    }
    await this.running;
  }

  /** One level-based pass over every stored deployment. Never throws. */
  reconcile(): Promise<void> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<void> {
    // Never awaited: one contract's hung work must not hold the pass (reconciles are coalesced).
    void this.o.engine.reconcileAll();
  }

  private async onEvent(e: ChainEvent): Promise<void> {
    const args = (e.args ?? {}) as { contractId?: bigint; nodeId?: number };
    if (args.nodeId !== this.o.nodeId || args.contractId === undefined) return;
    const id = Number(args.contractId);
    if (!this.o.store.get(id)) return;
    // Never awaited: a contract's work runs on its own queue (reconcile never throws).
    if (e.eventName === "ContractDeleted") this.o.engine.abort(id, "contract cancelled on chain");
    if (CONTRACT_EVENTS.has(e.eventName)) void this.o.engine.reconcile(id);
  }
}
