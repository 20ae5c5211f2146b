/**
 * Keeps the node in line with the chain (DESIGN.md step 5), level-based like a controller:
 * - events, followed from a cursor saved on disk (so a restart misses nothing): contract deleted
 *   -> deprovision; grace period -> pause; resumed -> resume;
 * - a reconcile pass at start and every `intervalMs`: every stored deployment is compared with its
 *   contract on chain and converged (deleted -> deprovision, grace -> paused, created -> running),
 *   and used resources are reported again. A missed event is therefore repaired by the next pass.
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
import { isDeleted, type ProvisionEngine } from "../engine/provision-engine.ts";

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
  engine: ProvisionEngine;
  store: DeploymentStore;
  /** File holding the last handled block. */
  cursorFile: string;
  /** Reconcile period (default 10 min; REFERENCE.md resyncs hourly). */
  intervalMs?: number;
  log: Logger;
}

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
    await this.reconcile();
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
    await this.watcher?.stop();
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
    for (const d of this.o.store.list()) {
      if (isDeleted(d)) continue;
      try {
        const c = await this.o.chain.getContract(d.contract_id);
        // Never awaited: one contract's hung work must not hold the pass for every other contract.
        if (c.state === "deleted" || c.nodeId !== this.o.nodeId) this.#background(d.contract_id, this.o.engine.deprovision(d.contract_id, "contract deleted on chain"));
        else this.#background(d.contract_id, this.o.engine.setPaused(d.contract_id, c.state === "grace_period"));
      } catch (e) {
        this.o.log.warn({ contract: d.contract_id, err: e }, "reconcile: could not read contract");
      }
    }
  }

  private async onEvent(e: ChainEvent): Promise<void> {
    const args = (e.args ?? {}) as { contractId?: bigint; nodeId?: number };
    if (args.nodeId !== this.o.nodeId || args.contractId === undefined) return;
    const id = Number(args.contractId);
    if (!this.o.store.get(id)) return;
    if (e.eventName === "ContractDeleted") this.#background(id, this.o.engine.deprovision(id, "contract cancelled on chain"));
    else if (e.eventName === "ContractGracePeriodStarted") this.#background(id, this.o.engine.setPaused(id, true));
    else if (e.eventName === "ContractResumed") this.#background(id, this.o.engine.setPaused(id, false));
  }

  /** Work queued on a contract runs on its own; its failure is logged. */
  #background(contractId: number, work: Promise<void>): void {
    work.catch((e: unknown) => this.o.log.warn({ contract: contractId, err: e }, "chain sync: contract work failed"));
  }
}
