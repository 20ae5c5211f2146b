/**
 * Docker's HEALTHCHECK for container VMs: the VM monitor calls `tick` for each running VM on every
 * pass; a VM whose spec has a healthcheck gets its test run in the guest through the guest agent
 * every `intervalSec` (first `intervalSec` after the VM started), with `timeoutSec` as the limit.
 * Status as Docker defines it: `starting` until the first success (failures inside
 * `startPeriodSec` do not count), `healthy` after a success, `unhealthy` after `retries` failures
 * in a row. Kept in `<vm dir>/health` (JSON), so every process (the node's vm routes, a restarted
 * daemon) reads the same; a new start of the VM clears it. At most one check per VM runs at once;
 * output kept per check is bounded (4 KiB). `onChange` hears a VM's health when its status or its
 * failing streak changes (a streak beyond `retries` at most every 30 s) and at each new QEMU of the
 * VM: the daemon writes it into the workload's result (ZmachineResult.health).
 *
 * @example
 * ```ts
 * const health = new VmHealth(hv);
 * health.tick("12-7-web");                              // from the monitor's pass
 * await readHealth(hv.paths("12-7-web").dir);           // { status: "healthy", failingStreak: 0, … }
 * ```
 */
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createLogger } from "@zgrid/log";
import type { ZmachineHealth } from "@zgrid/types";
import type { Hypervisor } from "./hypervisor.ts";

const log = createLogger("zos.hypervisor.health");

export type HealthStatus = "starting" | "healthy" | "unhealthy";

export interface HealthState {
  status: HealthStatus;
  failingStreak: number;
  /** Output (or error) of the last check, at most 4 KiB. */
  lastOutput: string;
  lastExitCode: number | null;
  /** When the last check ended (ms since epoch). */
  at: number;
}

const OUTPUT_MAX = 4096;

/**
 * The health as a zmachine's result reports it.
 *
 * @example
 * ```ts
 * zmachineHealth(await readHealth(dir)); // { status: "healthy", failing_streak: 0, last_output: "ok\n", at: 1764… }
 * ```
 */
export function zmachineHealth(h: HealthState): ZmachineHealth {
  return { status: h.status, failing_streak: h.failingStreak, last_output: h.lastOutput, at: h.at };
}

/** The health of a VM from its state dir (`starting` when no check ended since its start). */
export async function readHealth(vmDir: string): Promise<HealthState> {
  const text = await readFile(join(vmDir, "health"), "utf8").catch(() => "");
  try {
    const h = JSON.parse(text) as HealthState;
    if (h && (h.status === "starting" || h.status === "healthy" || h.status === "unhealthy")) return h;
  } catch { /* none yet */ }
  return { status: "starting", failingStreak: 0, lastOutput: "", lastExitCode: null, at: 0 };
}

/** A long failing streak is reported at most this often (status changes always are). */
const STREAK_REPORT_MS = 30_000;

export type HealthListener = (id: string, health: HealthState) => void;

export class VmHealth {
  readonly #hv: Hypervisor;
  readonly #running = new Map<string, Promise<void>>();
  readonly #nextAt = new Map<string, { pid: number; at: number }>();
  readonly #reported = new Map<string, { status: HealthStatus; streak: number; at: number }>();
  readonly #onChange: HealthListener | undefined;

  constructor(hv: Hypervisor, onChange?: HealthListener) {
    this.#hv = hv;
    this.#onChange = onChange;
  }

  /** Tells the listener when the status or streak differs from what it last heard (see the file comment). */
  #report(id: string, h: HealthState, retries: number, force = false): void {
    const last = this.#reported.get(id);
    const changed = force || !last || last.status !== h.status
      || (last.streak !== h.failingStreak && (h.failingStreak <= retries || Date.now() - last.at >= STREAK_REPORT_MS));
    if (!changed || !this.#onChange) return;
    this.#reported.set(id, { status: h.status, streak: h.failingStreak, at: Date.now() });
    try {
      this.#onChange(id, h);
    } catch (e) {
      log.warn({ id, err: e }, "health listener failed");
    }
  }

  /** Starts the VM's next check when it is due (returns at once; the check runs on its own). */
  async tick(id: string): Promise<void> {
    if (this.#running.has(id)) return;
    const spec = await this.#hv.spec(id);
    const hc = spec.healthcheck;
    if (!hc || spec.mode !== "container") return;
    const status = await this.#hv.status(id);
    if (status.state !== "running" || status.pid === undefined) return;
    const paths = this.#hv.paths(id);
    const startedAt = (await stat(paths.pidfile).catch(() => undefined))?.mtimeMs ?? Date.now();
    let next = this.#nextAt.get(id);
    if (!next || next.pid !== status.pid) {
      // a new QEMU (first sight or restarted): the first check one interval after its start
      next = { pid: status.pid, at: startedAt + hc.intervalSec * 1000 };
      this.#nextAt.set(id, next);
      this.#report(id, await readHealth(paths.dir), hc.retries, true);
    }
    if (Date.now() < next.at) return;
    next.at = Date.now() + hc.intervalSec * 1000;
    const run = this.#check(id, hc, startedAt).finally(() => this.#running.delete(id));
    this.#running.set(id, run);
  }

  /** Drops what is kept about a VM that no longer runs (stopped for good or deleted). */
  forget(id: string): void {
    this.#nextAt.delete(id);
    this.#reported.delete(id);
  }

  /** Waits for the checks in flight (monitor stop). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#running.values()]);
  }

  async #check(id: string, hc: NonNullable<Awaited<ReturnType<Hypervisor["spec"]>>["healthcheck"]>, startedAt: number): Promise<void> {
    const dir = this.#hv.paths(id).dir;
    const before = await readHealth(dir);
    let ok = false;
    let output = "";
    let code: number | null = null;
    try {
      const r = await this.#hv.exec(id, { argv: hc.test, timeoutMs: hc.timeoutSec * 1000, maxOutputBytes: OUTPUT_MAX });
      code = r.code ?? null;
      ok = r.code === 0 && !r.timedOut;
      output = r.timedOut ? `health check timed out after ${hc.timeoutSec} s` : (r.stdout + r.stderr).slice(0, OUTPUT_MAX);
    } catch (e) {
      output = `health check could not run: ${(e as Error).message}`.slice(0, OUTPUT_MAX);
    }
    const inStartPeriod = Date.now() - startedAt < hc.startPeriodSec * 1000;
    const streak = ok ? 0 : inStartPeriod && before.status === "starting" ? before.failingStreak : before.failingStreak + 1;
    const status: HealthStatus = ok ? "healthy" : streak >= hc.retries ? "unhealthy" : before.status;
    // a VM stopped meanwhile keeps no stale health (its next start clears the file anyway)
    if ((await this.#hv.status(id).catch(() => undefined))?.state !== "running") return;
    if (status !== before.status) log.info({ id, status, streak, output: output.slice(0, 200) }, "vm health changed");
    const state: HealthState = { status, failingStreak: streak, lastOutput: output, lastExitCode: code, at: Date.now() };
    await writeFile(join(dir, "health"), JSON.stringify(state) + "\n");
    this.#report(id, state, hc.retries);
  }
}
