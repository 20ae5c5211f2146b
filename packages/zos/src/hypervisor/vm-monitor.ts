/**
 * Restarts crashed VMs. Every `intervalMs` it looks at each VM whose desired state is "running"
 * (written by Hypervisor.start, cleared by stop): if its QEMU is gone it boots it again from the
 * saved spec. It tells two causes apart from the console since the last start:
 * - "app": the guest ended (init FATAL, the entrypoint exited so the kernel panicked, an oops):
 *   after `maxFailures` of these in a row (a VM that stays up `stableMs` is forgiven) it gives up,
 *   stops the VM (tap cleaned up) and reports why;
 * - "platform": QEMU died with no word from the guest (killed, host trouble): restarted every
 *   time, not held against the app (bounded by `maxPlatformFailures` in a row, so a QEMU that
 *   cannot start at all is still given up on).
 * A VM whose spec has a restart policy (issue 15; zmachines always do) follows Docker's rules for
 * the app's own end instead of `maxFailures`: `no` never restarts, `on-failure[:N]` restarts a
 * non-zero exit (at most N times in a row), `always`/`unless-stopped` restart every end; restarts
 * back off (0.5 s doubling to 60 s, restartDelayMs); the reason is the guest init's
 * `app exited with status N` / `app killed by SIGX` / FATAL line. A dead QEMU is always restarted.
 * `always` and `unless-stopped` differ as in Docker: at the monitor's start (the daemon's start) a
 * VM its owner stopped is started again under `always` and stays stopped under `unless-stopped`.
 * Running VMs with a HEALTHCHECK get it run in the guest on each pass when due (vm-health.ts).
 * Works for VMs adopted from an earlier daemon process too. The other processes a VM needs (its
 * flist mount worker, its network's wireguard-go) are watched by the engine's liveness pass on the
 * same tick (ProvisionEngine.watchLiveness): each is repaired on its own.
 *
 * @example
 * ```ts
 * const monitor = new VmMonitor({ hypervisor: hv, intervalMs: 5_000 });
 * monitor.on("restarted", (e) => log.warn(e, "vm restarted"));
 * monitor.on("gave-up", (e) => report(e.id, e.reason));
 * monitor.start();  // … monitor.stop();
 * ```
 */
import { EventEmitter } from "node:events";
import { createLogger } from "@zgrid/log";
import type { Hypervisor } from "./hypervisor.ts";
import { rotateConsole } from "./vm-console.ts";
import { VmHealth, type HealthState } from "./vm-health.ts";

const log = createLogger("zos.hypervisor.monitor");

export interface VmMonitorOptions {
  hypervisor: Hypervisor;
  /** How often to check (default 5000 ms). */
  intervalMs?: number;
  /** Give up after this many app failures in a row (default 4). */
  maxFailures?: number;
  /** Give up after this many platform failures in a row (default 20). */
  maxPlatformFailures?: number;
  /** A VM running this long since its last restart has its failure count reset (default 60 s). */
  stableMs?: number;
  /** Console logs over this size are rotated on each check (default 8 MiB; rotateConsole). */
  consoleLogBytes?: number;
}

export interface MonitorEvent {
  id: string;
  /** Failures in a row so far. */
  failures: number;
  /** Why the VM went down (last meaningful console line) or why the restart failed. */
  reason: string;
  /** "app": the guest ended (its entrypoint, init); "platform": QEMU died without a word from the guest. */
  cause: "app" | "platform";
}

interface Track {
  failures: number;
  platformFailures: number;
  lastRestart: number;
  gaveUp: boolean;
  lastReason: string;
  /** Back-off: no restart before this time (ms since epoch). */
  notBefore: number;
}

/** Back-off of restarts under a restart policy: 0.5 s doubling per end in a row, at most 60 s. */
export function restartDelayMs(failures: number): number {
  return Math.min(60_000, 500 * 2 ** Math.max(0, Math.min(failures - 1, 16)));
}

/** A VM's health as the monitor's health checks saw it change (vm-health.ts). */
export interface HealthEvent {
  id: string;
  health: HealthState;
}

export class VmMonitor extends EventEmitter<{ restarted: [MonitorEvent]; "gave-up": [MonitorEvent]; health: [HealthEvent] }> {
  readonly #hv: Hypervisor;
  readonly #intervalMs: number;
  readonly #maxFailures: number;
  readonly #maxPlatformFailures: number;
  readonly #stableMs: number;
  readonly #consoleLogBytes: number;
  readonly #tracks = new Map<string, Track>();
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  readonly #health: VmHealth;
  #startPass: Promise<void> | undefined;

  constructor(opts: VmMonitorOptions) {
    super();
    this.#hv = opts.hypervisor;
    this.#intervalMs = opts.intervalMs ?? 5_000;
    this.#maxFailures = opts.maxFailures ?? 4;
    this.#maxPlatformFailures = opts.maxPlatformFailures ?? 20;
    this.#stableMs = opts.stableMs ?? 60_000;
    this.#consoleLogBytes = opts.consoleLogBytes ?? 8 * 1024 ** 2;
    this.#health = new VmHealth(opts.hypervisor, (id, health) => this.emit("health", { id, health }));
  }

  /**
   * Starts checking. This is the daemon's start, so first Docker's `always` is applied: a VM its
   * owner stopped (`vm stop`) is started again when its policy is `always` (not `unless-stopped`,
   * whose stopped VMs stay stopped across daemon restarts).
   */
  start(): void {
    if (this.#timer) return;
    this.#startPass = this.#startAlways().catch((e: unknown) => log.warn({ err: e }, "monitor start pass failed"));
    this.#timer = setInterval(() => void this.check(), this.#intervalMs);
  }

  /** The start pass (restart policy `always`) is over. */
  async started(): Promise<void> {
    await this.#startPass;
  }

  /** Stops checking and waits for a check in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#startPass;
    await this.#ticking;
    await this.#health.settle();
  }

  async #startAlways(): Promise<void> {
    for (const id of await this.#hv.list()) {
      const status = await this.#hv.status(id).catch(() => undefined);
      if (!status?.held || status.state !== "stopped") continue;
      if ((await this.#hv.spec(id)).restart?.policy !== "always") continue;
      try {
        await this.#hv.start({ id });
        log.info({ id }, "vm stopped by its owner started again: restart policy always (daemon start)");
        this.emit("restarted", { id, failures: 0, reason: "restart policy always: started again with the daemon", cause: "app" });
      } catch (e) {
        log.warn({ id, err: e }, "restart policy always: start failed");
      }
    }
  }

  /** Failure bookkeeping of a VM (undefined when it never failed). */
  failures(id: string): { failures: number; gaveUp: boolean; reason: string } | undefined {
    const t = this.#tracks.get(id);
    return t && { failures: t.failures, gaveUp: t.gaveUp, reason: t.lastReason };
  }

  /** One pass over all VMs (also called by the timer). */
  check(): Promise<void> {
    this.#ticking ??= this.#checkAll().finally(() => (this.#ticking = undefined));
    return this.#ticking;
  }

  async #checkAll(): Promise<void> {
    for (const id of await this.#hv.list()) {
      try {
        await this.#checkOne(id);
        await rotateConsole((await this.#hv.status(id)).consoleLog, this.#consoleLogBytes);
      } catch (e) {
        log.warn({ id, err: e }, "monitor check failed");
      }
    }
  }

  async #checkOne(id: string): Promise<void> {
    const status = await this.#hv.status(id);
    const track = this.#tracks.get(id) ?? { failures: 0, platformFailures: 0, lastRestart: 0, gaveUp: false, lastReason: "", notBefore: 0 };
    this.#tracks.set(id, track);
    if (status.desired !== "running") {
      this.#tracks.delete(id);
      this.#health.forget(id);
      return;
    }
    if (status.state !== "stopped") {
      if (Date.now() - track.lastRestart > this.#stableMs) track.failures = track.platformFailures = 0;
      if (status.state === "running") await this.#health.tick(id);
      return;
    }
    let cause: "app" | "platform" = "app";
    if (track.notBefore > 0) {
      if (Date.now() < track.notBefore) return; // backing off: this end is counted and its reason recorded
      track.notBefore = 0;
    } else {
      const tail = await this.#hv.consoleTail(id, 8192);
      cause = crashCause(tail);
      track.lastReason = crashReason(tail);
      const policy = cause === "app" ? (await this.#hv.spec(id)).restart : undefined;
      if (cause === "app") track.failures++;
      else track.platformFailures++;
      if (policy) {
        // Docker's restart policies for the app's own end; a dead QEMU (platform) is always restarted.
        const exit = appExit(tail);
        const giveUp = policy.policy === "no" ? "restart policy no"
          : policy.policy === "on-failure" && exit?.code === 0 ? "restart policy on-failure"
          : policy.policy === "on-failure" && policy.maxRetries !== undefined && track.failures > policy.maxRetries ? `restart policy on-failure:${policy.maxRetries}, restarted ${policy.maxRetries} times`
          : undefined;
        if (giveUp) {
          track.gaveUp = true;
          await this.#hv.markFailed(id, `${track.lastReason} (${giveUp})`).catch(() => undefined);
          log.info({ id, failures: track.failures, reason: track.lastReason, policy }, "vm app ended; not restarted");
          this.emit("gave-up", { id, failures: track.failures, reason: track.lastReason, cause });
          return;
        }
        track.notBefore = Date.now() + restartDelayMs(track.failures);
        log.warn({ id, failures: track.failures, reason: track.lastReason, delayMs: restartDelayMs(track.failures) }, "vm app ended; restarting after back-off");
        return;
      }
      const n = cause === "app" ? track.failures : track.platformFailures;
      if (cause === "app" ? n >= this.#maxFailures : n >= this.#maxPlatformFailures) {
        track.gaveUp = true;
        await this.#hv.markFailed(id, `VM crashed ${n} times (${cause === "app" ? "the guest ended" : "QEMU died"}), gave up: ${track.lastReason}`).catch(() => undefined);
        log.error({ id, failures: n, cause, reason: track.lastReason }, "vm keeps crashing; giving up");
        this.emit("gave-up", { id, failures: n, reason: track.lastReason, cause });
        return;
      }
    }
    const failures = cause === "app" ? track.failures : track.platformFailures;
    track.lastRestart = Date.now();
    try {
      await this.#hv.start({ id });
      log.warn({ id, failures, cause, reason: track.lastReason }, "vm restarted");
      this.emit("restarted", { id, failures, reason: track.lastReason, cause });
    } catch (e) {
      track.lastReason = `restart failed: ${(e as Error).message.split("\n")[0]}`;
      log.warn({ id, err: e }, "vm restart failed");
    }
  }
}

const GUEST_ENDED = /FATAL|Kernel panic|Attempted to kill init|Oops|BUG:|reboot: (Restarting|Power down)|zgrid-init: app (exited|killed)/;
const APP_END = /zgrid-init: app (exited with status (\d+)|killed by (SIG\w+))/g;

/** How the app ended, from the guest init's last word since the last start (undefined: no word). */
export function appExit(consoleTail: string): { code?: number; signal?: string; text: string } | undefined {
  const since = consoleTail.slice(Math.max(0, consoleTail.lastIndexOf("zgrid-host: qemu start")));
  const m = [...since.matchAll(APP_END)].at(-1);
  if (!m) return undefined;
  return m[2] !== undefined ? { code: Number(m[2]), text: m[1]! } : { signal: m[3]!, text: m[1]! };
}

/** Whether the guest itself ended ("app") or QEMU died without a word from it ("platform"). */
export function crashCause(consoleTail: string): "app" | "platform" {
  const since = consoleTail.slice(Math.max(0, consoleTail.lastIndexOf("zgrid-host: qemu start")));
  return GUEST_ENDED.test(since) ? "app" : "platform";
}

/** The most telling console line of a dead VM. */
export function crashReason(consoleTail: string): string {
  const since = consoleTail.slice(Math.max(0, consoleTail.lastIndexOf("zgrid-host: qemu start")));
  const lines = since.split("\n").map((l) => l.trim()).filter(Boolean);
  const exit = appExit(consoleTail);
  const fatal = lines.filter((l) => /zgrid-init: FATAL/.test(l)).at(-1);
  if (fatal) return fatal.replace(/^.*zgrid-init: FATAL: /, "");
  if (exit) return `the app ${exit.text}`;
  const telling = lines.filter((l) => /FATAL|Kernel panic|Attempted to kill init|Oops|BUG:/.test(l));
  return telling.at(-1) ?? (lines.length > 1 ? `qemu exited; last console line: ${lines.at(-1)}` : "qemu exited");
}
