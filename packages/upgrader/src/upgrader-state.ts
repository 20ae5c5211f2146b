/**
 * The upgrader's own record on disk (`<stateDir>/state.json`, written atomically): the version
 * zosd runs from, the one before (kept for rollback), and versions whose health gate failed here
 * (never retried). Every finished upgrade or rollback is appended to `upgrades.jsonl` (timings).
 *
 * @example
 * ```ts
 * const s = loadState(dir);            // { current: "1.0.0", previous: undefined, failed: [] }
 * saveState(dir, { ...s, current: "2.0.0", previous: "1.0.0" });
 * ```
 */
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface UpgraderState { current?: string | undefined; previous?: string | undefined; failed: string[] }

export interface UpgradeRecord {
  version: string;
  from: string;
  outcome: "upgraded" | "rolled-back" | "refused";
  reason?: string;
  /** Seconds: download+verify+unpack, stop old → new ready, ready → health gate passed, total. */
  download: number;
  switch: number;
  readopt: number;
  total: number;
  reusedBytes?: number;
  wave?: number;
  /** A rollback found the state migrated by the failed release and put the snapshot back. */
  stateRestored?: boolean;
  at: string;
}

export function loadState(stateDir: string): UpgraderState {
  const p = join(stateDir, "state.json");
  if (!existsSync(p)) return { failed: [] };
  const s = JSON.parse(readFileSync(p, "utf8")) as Partial<UpgraderState>;
  return { current: s.current, previous: s.previous, failed: Array.isArray(s.failed) ? s.failed.filter((v) => typeof v === "string") : [] };
}

export function saveState(stateDir: string, s: UpgraderState): void {
  const p = join(stateDir, "state.json");
  writeFileSync(`${p}.tmp`, JSON.stringify(s));
  renameSync(`${p}.tmp`, p);
}

export function appendUpgradeRecord(stateDir: string, r: UpgradeRecord): void {
  appendFileSync(join(stateDir, "upgrades.jsonl"), `${JSON.stringify(r)}\n`);
}

export function readUpgradeRecords(stateDir: string): UpgradeRecord[] {
  const p = join(stateDir, "upgrades.jsonl");
  if (!existsSync(p)) return [];
  return readFileSync(p, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as UpgradeRecord);
}
