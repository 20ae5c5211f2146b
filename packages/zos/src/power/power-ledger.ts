/**
 * The node's own power-state durations (`zos.system.power_durations`): how long this machine was on
 * and off, and the vCPU-seconds its workloads reserved while on, kept by the node itself in a file
 * of its data dir so they survive power-offs and restarts. The farmerbot reads them instead of
 * guessing from its passes.
 *
 * - While on, a checkpoint (every minute, and at every read) adds the time since the last one to
 *   `on_seconds`, and that time × the vCPUs reserved at the last checkpoint to
 *   `reserved_core_seconds` (a workload's start or end is seen within a minute).
 * - At a power-off the node writes `offAt` just before its switch cuts the power.
 * - At start, `offAt` present: the machine was off from `offAt` until power came back (`powerOnAt`:
 *   the kernel's boot time on hardware, the BMC's wake time on the local grid): that is added to
 *   `off_seconds`, the time from power-on to now to `on_seconds`, and `wakes` grows by one.
 * - At start without `offAt` (a crash, a SIGKILL, a reboot without the bot): the gap since the last
 *   checkpoint is counted as on (the conservative side for energy: power is assumed drawn).
 *
 * The file is written whole, fsynced and renamed (a SIGKILL leaves the old or the new one); an
 * unreadable one is moved aside (`.corrupt`) and counting starts again.
 *
 * @example
 * ```ts
 * const ledger = openPowerLedger({ file: join(dataDir, "power-ledger.json"), usedCores: () => 4 });
 * ledger.report();   // { since, on_seconds, off_seconds, reserved_core_seconds, wakes, power_offs }
 * ledger.markOff();  // just before the power switch
 * ```
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { PowerDurations } from "@zgrid/types";

interface LedgerFile {
  version: 1;
  since: number;
  /** Last checkpoint while on (unix s). */
  at: number;
  onSeconds: number;
  offSeconds: number;
  reservedCoreSeconds: number;
  wakes: number;
  powerOffs: number;
  /** Set just before a power-off: when the machine went off. */
  offAt?: number;
}

export interface PowerLedgerOptions {
  file: string;
  /** vCPUs the node's live workloads reserve right now. */
  usedCores(): number;
  /** Unix seconds the machine's power came on (this boot); default: now. */
  powerOnAt?: number;
  now?: () => number;
}

export interface PowerLedger {
  /** Durations up to now (a checkpoint is taken). */
  report(): Omit<PowerDurations, "node_id">;
  /** A checkpoint written to the file (the daemon calls it every minute). */
  checkpoint(): void;
  /** Just before the power switch cuts the power. */
  markOff(): void;
}

const num = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0;

function read(file: string): LedgerFile | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const f = JSON.parse(readFileSync(file, "utf8")) as LedgerFile;
    const ok = f.version === 1 && [f.since, f.at, f.onSeconds, f.offSeconds, f.reservedCoreSeconds, f.wakes, f.powerOffs].every(num) && (f.offAt === undefined || num(f.offAt));
    if (!ok) throw new Error("not a power ledger");
    return f;
  } catch {
    renameSync(file, `${file}.corrupt`);
    return undefined;
  }
}

function write(file: string, f: LedgerFile): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, JSON.stringify(f));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/** Opens (or starts) the node's ledger and accounts for the time since the last run. */
export function openPowerLedger(o: PowerLedgerOptions): PowerLedger {
  const now = o.now ?? (() => Math.floor(Date.now() / 1000));
  const t = now();
  const f: LedgerFile = read(o.file) ?? { version: 1, since: t, at: t, onSeconds: 0, offSeconds: 0, reservedCoreSeconds: 0, wakes: 0, powerOffs: 0 };
  if (f.offAt !== undefined) {
    // Off from offAt until the power came back, on since then.
    const on = Math.min(t, Math.max(f.offAt, o.powerOnAt ?? t));
    f.offSeconds += on - f.offAt;
    f.onSeconds += t - on;
    f.wakes++;
    delete f.offAt;
  } else f.onSeconds += Math.max(0, t - f.at);
  f.at = t;
  write(o.file, f);

  // The vCPUs reserved since the last checkpoint; a failing count (the store already closed at a
  // power-off) keeps the last one.
  const count = (last: number) => { try { return Math.max(0, o.usedCores()); } catch { return last; } };
  let cores = count(0);
  const checkpoint = (refresh = true) => {
    const n = now();
    const dt = Math.max(0, n - f.at);
    f.onSeconds += dt;
    f.reservedCoreSeconds += dt * cores;
    f.at = n;
    if (refresh) cores = count(cores);
  };
  return {
    report() {
      checkpoint();
      return { since: f.since, on_seconds: f.onSeconds, off_seconds: f.offSeconds, reserved_core_seconds: f.reservedCoreSeconds, wakes: f.wakes, power_offs: f.powerOffs };
    },
    checkpoint() {
      checkpoint();
      write(o.file, f);
    },
    markOff() {
      checkpoint(false);
      f.offAt = f.at;
      f.powerOffs++;
      write(o.file, f);
    },
  };
}
