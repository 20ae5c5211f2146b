/**
 * The farmerbot's memory on disk, SIGKILL-safe: the whole state is written to a temporary file,
 * fsynced, and renamed over the old one, so a kill at any instant leaves either the old or the new
 * state, never a torn one. An unreadable file is moved aside (`.corrupt`) and the bot starts from
 * what the chain says (it is level-based: memory only holds timers and energy counters).
 *
 * @example
 * ```ts
 * const store = openFarmerState("/var/lib/farmerbot/state.json");
 * store.state.nodes[3] ??= { memory: {}, ledger: newLedger(now, "on") };
 * store.save();
 * ```
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { NodeMemory } from "./decide.ts";

/** A node's power-state durations since the bot first saw it. */
export interface PowerLedger {
  power: "on" | "off";
  /** Unix s of the last update. */
  at: number;
  since: number;
  usedCru: number;
  onSeconds: number;
  offSeconds: number;
  reservedCoreSeconds: number;
  wakes: number;
  offs: number;
  /** Who measured the counters last: the node itself (`zos.system.power_durations`) or the bot's passes. */
  source?: "node" | "bot";
}

/** What a node reports of itself (its power ledger). */
export interface NodeDurations {
  onSeconds: number;
  offSeconds: number;
  reservedCoreSeconds: number;
  wakes: number;
  offs: number;
}

/** The node's own counters replace the bot's (the ledger was just advanced to now). */
export function adoptNodeDurations(l: PowerLedger, d: NodeDurations): void {
  l.onSeconds = d.onSeconds;
  l.offSeconds = d.offSeconds;
  l.reservedCoreSeconds = d.reservedCoreSeconds;
  l.wakes = d.wakes;
  l.offs = d.offs;
  l.source = "node";
}

export interface FarmerState {
  version: 1;
  nodes: Record<string, { memory: NodeMemory; ledger: PowerLedger }>;
  /** Wake latencies measured (seconds from first magic packet to up), last 1000. */
  wakeLatencies: number[];
}

export interface FarmerStateStore {
  state: FarmerState;
  save(): void;
}

export function newLedger(now: number, power: "on" | "off"): PowerLedger {
  return { power, at: now, since: now, usedCru: 0, onSeconds: 0, offSeconds: 0, reservedCoreSeconds: 0, wakes: 0, offs: 0 };
}

/** Advances a ledger to `now`, then records the node's current power and used vCPUs. */
export function advanceLedger(l: PowerLedger, now: number, power: "on" | "off", usedCru: number): void {
  const dt = Math.max(0, now - l.at);
  if (l.power === "on") {
    l.onSeconds += dt;
    l.reservedCoreSeconds += dt * l.usedCru;
  } else l.offSeconds += dt;
  if (l.power !== power) {
    if (power === "on") l.wakes++;
    else l.offs++;
    l.since = now;
  }
  l.power = power;
  l.usedCru = power === "on" ? usedCru : 0;
  l.at = now;
}

const empty = (): FarmerState => ({ version: 1, nodes: {}, wakeLatencies: [] });

/** The state in `file` (created on the first save); in memory only when `file` is undefined. */
export function openFarmerState(file: string | undefined): FarmerStateStore {
  let state = empty();
  if (file && existsSync(file)) {
    try {
      const parsed = JSON.parse(readFileSync(file, "utf8")) as FarmerState;
      if (parsed.version !== 1 || typeof parsed.nodes !== "object" || !Array.isArray(parsed.wakeLatencies)) throw new Error("not a farmerbot state");
      state = parsed;
    } catch {
      renameSync(file, `${file}.corrupt`);
    }
  }
  return {
    get state() { return state; },
    save() {
      if (!file) return;
      mkdirSync(dirname(file), { recursive: true });
      const tmp = `${file}.tmp`;
      const fd = openSync(tmp, "w", 0o600);
      try {
        writeSync(fd, JSON.stringify(state));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, file);
    },
  };
}
