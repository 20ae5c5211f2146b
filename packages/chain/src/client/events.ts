/**
 * Every state change of the grid is an event. getGridEvents reads a block range; watchGridEvents
 * follows the chain from a block, so a consumer that stores the last block it handled resumes after a
 * restart without missing or repeating anything.
 */
import { parseEventLogs, type Address, type Hash } from "viem";
import { createLogger } from "@zgrid/log";
import { gridAbi } from "../abis.ts";
import { toChainError } from "../errors/decode-revert.ts";
import type { GridContext } from "./context.ts";

const log = createLogger("chain.events");

type ParsedGridLog = ReturnType<typeof parseEventLogs<typeof gridAbi>>[number];

/** A decoded grid event: `eventName` + typed `args`, where it happened and which contract emitted it. */
export type GridEvent = ParsedGridLog & { source: "token" | "registry" | "contracts" | "governance" };

export interface GetGridEventsParams { fromBlock: bigint; toBlock?: bigint }

export async function getGridEvents(ctx: GridContext, params: GetGridEventsParams): Promise<GridEvent[]> {
  const a = ctx.addresses;
  const sourceOf = new Map<string, GridEvent["source"]>([
    [a.token.toLowerCase(), "token"], [a.registry.toLowerCase(), "registry"],
    [a.contracts.toLowerCase(), "contracts"], [a.governance.toLowerCase(), "governance"],
  ]);
  let logs;
  try {
    logs = await ctx.publicClient.getLogs({
      address: [a.token, a.registry, a.contracts, a.governance] as Address[],
      fromBlock: params.fromBlock, toBlock: params.toBlock ?? "latest",
    });
  } catch (e) {
    throw toChainError(e, "getLogs");
  }
  return parseEventLogs({ abi: gridAbi, logs }).map((l) => ({ ...l, source: sourceOf.get(l.address.toLowerCase())! }) as GridEvent);
}

export interface WatchGridEventsParams {
  /** First block to read (resume: the last handled block + 1). */
  fromBlock: bigint;
  /**
   * Receives each batch in chain order, with the last block it covers. When it resolves, the batch
   * counts as handled; when it throws, the same batch is delivered again on the next poll.
   */
  onEvents: (events: GridEvent[], toBlock: bigint) => void | Promise<void>;
  onError?: (error: unknown) => void;
  /** Max blocks per getLogs call (default 2,000). */
  maxBlockRange?: bigint;
}

export interface GridEventWatcher {
  /** The next block that will be read. */
  readonly nextBlock: bigint;
  stop(): Promise<void>;
}

/**
 * @example
 * ```ts
 * const watcher = watchGridEvents(ctx, { fromBlock: saved + 1n, onEvents: async (events, to) => { …; await save(to); } });
 * await watcher.stop();
 * ```
 */
export function watchGridEvents(ctx: GridContext, params: WatchGridEventsParams): GridEventWatcher {
  let next = params.fromBlock;
  let stopped = false;
  const range = params.maxBlockRange ?? 2000n;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopped) {
      try {
        const latest = await ctx.publicClient.getBlockNumber({ cacheTime: 0 });
        while (!stopped && next <= latest) {
          const to = next + range - 1n < latest ? next + range - 1n : latest;
          const events = await getGridEvents(ctx, { fromBlock: next, toBlock: to });
          await params.onEvents(events, to);
          next = to + 1n;
        }
      } catch (e) {
        if (params.onError) params.onError(e); else log.warn({ err: e }, "event poll failed; retrying");
      }
      if (stopped) break;
      await new Promise<void>((r) => { wake = r; setTimeout(r, ctx.pollingIntervalMs); });
    }
  })();
  return {
    get nextBlock() { return next; },
    async stop() { stopped = true; wake?.(); await loop; },
  };
}

export type { Hash };
