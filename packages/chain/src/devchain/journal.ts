/**
 * The dev chain's state file: a journal of every state-changing JSON-RPC call with the timestamp of
 * the block it mined. Replaying it on a fresh EVM (same timestamps) rebuilds the same chain, so a
 * restarted dev chain keeps its twins, nodes and contracts. EDR has no state dump, hence the journal.
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import type { Eip1193Provider } from "./edr-provider.ts";

export interface JournalEntry {
  method: string;
  params: unknown[];
  /** Timestamp of the last block after the call, when the call mined blocks. */
  minedAt?: number;
}

/** Calls that change chain state; everything else is a read. */
export const STATE_CHANGING = new Set([
  "eth_sendTransaction", "eth_sendRawTransaction", "evm_increaseTime", "evm_setNextBlockTimestamp",
  "evm_mine", "hardhat_mine", "hardhat_setBalance", "hardhat_setCode", "hardhat_setStorageAt",
  "hardhat_setNonce", "evm_snapshot", "evm_revert", "evm_setAutomine", "hardhat_setNextBlockBaseFeePerGas",
]);

export function readJournal(path: string): JournalEntry[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as JournalEntry);
}

export function appendJournal(path: string, entry: JournalEntry): void {
  appendFileSync(path, JSON.stringify(entry) + "\n");
}

/** Replays a journal onto a fresh provider; returns how many calls were replayed. */
export async function replayJournal(provider: Eip1193Provider, entries: JournalEntry[]): Promise<number> {
  for (const e of entries) {
    if (e.minedAt !== undefined && e.method !== "evm_increaseTime" && e.method !== "evm_setNextBlockTimestamp") {
      await provider.request({ method: "evm_setNextBlockTimestamp", params: [e.minedAt] });
    }
    try {
      await provider.request({ method: e.method, params: e.params });
    } catch {
      // a call that failed the first time (reverted transaction) fails again the same way
    }
  }
  return entries.length;
}
