/**
 * The micro-VM hypervisor: boots container-mode VMs under QEMU (`-M microvm`, TCG unless a KVM
 * guest really boots), drives them over QMP and keeps every fact on disk under
 * `<stateDir>/<id>/` (spec.json, desired, qemu.pid, qmp.sock, console.log, config/), so a new
 * daemon process re-adopts running VMs: QEMU is daemonized in its own session and survives the
 * daemon's SIGKILL.
 *
 * @example
 * ```ts
 * const hv = new Hypervisor({ stateDir: "/var/lib/zos/vms" });
 * await hv.start({ id: "vm1", rootShare: "/mnt/flist/alpine", rootDisk: { path: "/var/lib/zos/vm1.img", sizeBytes: 2 ** 30 },
 *   entrypoint: ["/bin/sh", "/start.sh"], network: { bridge: "br0", ip: "10.1.0.2/24", gateway: "10.1.0.1" } });
 * await hv.waitForConsole("vm1", /ready/);
 * await hv.pause("vm1"); await hv.resume("vm1");
 * await hv.stop("vm1");            // QEMU gone, tap gone, socket gone; disks kept
 * await hv.delete("vm1");          // root disk and non-`keep` disks removed too
 * ```
 */
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createLogger } from "@zgrid/log";
import { probeAccel, type AccelChoice } from "./accel-probe.ts";
import { consoleTail, markConsoleStart, waitForConsole, waitForEntrypoint } from "./vm-console.ts";
import { ensureExt4Disk, ensureImageSize, removeDisk } from "./disk.ts";
import { VmAgentError, VmNotFoundError, VmStartError, VmStateError } from "./errors.ts";
import { GuestAgent, type AgentSession, type ExecOptions, type ExecResult, type SessionOptions } from "./guest-agent.ts";
import { readHealth, type HealthState } from "./vm-health.ts";
import { findGuest, type GuestArtifacts } from "./guest-artifacts.ts";
import { writeGuestConfig } from "./guest-config.ts";
import { writeCloudInitSeed } from "./cloud-init-seed.ts";
import { runHost } from "./host-command.ts";
import { qmpCommand } from "./qmp-client.ts";
import { QEMU_BINARY, buildQemuArgs, type Accel, type VmPaths } from "./qemu-command.ts";
import { ensureTap, removeTap, tapNameFor } from "./tap.ts";
import { vmNics } from "./vm-nics.ts";
import { killQuietly, processDiagnostics, processesMentioning, readVmPid, tapHolders, waitForExit } from "./vm-process.ts";
import { LINGER_GRACE_MS, lingeringSince } from "./vm-linger.ts";
import { parseVmSpec, type VmSpec, type VmSpecInput } from "./vm-spec.ts";
import { listVmIds, readDesired, readFailure, readVmSpec, vmPaths } from "./vm-state-dir.ts";

const log = createLogger("zos.hypervisor");

export type VmState = "running" | "paused" | "stopped" | "unknown";

export interface VmStatus {
  id: string;
  state: VmState;
  /** QEMU's own run state (query-status), e.g. "running", "paused", "shutdown". */
  qemuState?: string;
  pid?: number;
  /** What the owner asked for last: the monitor restarts VMs whose desired state is running. */
  desired: "running" | "stopped";
  /** Tap of the first NIC. */
  tap?: string;
  /** Taps of all NICs, in spec order. */
  taps: string[];
  consoleLog: string;
  /** Why the monitor gave up on this VM (cleared by the next start). */
  failure?: string;
  /** Stopped by its owner (`stop(id, { hold: true })`): stays stopped until started again. */
  held?: boolean;
  /** The image's HEALTHCHECK result (running container VMs with a health check; see vm-health.ts). */
  health?: HealthState;
}

export interface HypervisorOptions {
  /** Root of the per-VM state directories. Keep it short: QMP socket paths must fit 107 bytes. */
  stateDir: string;
  /** Guest kernel/initramfs dir (default .tools/guest, see scripts/setup.sh). */
  guestDir?: string;
  /** "auto" (default) probes KVM once and falls back to TCG. */
  accel?: Accel | "auto";
  probeTimeoutMs?: number;
  /** A guest that ended this long ago but whose QEMU is still there gets it ended (default LINGER_GRACE_MS; vm-linger.ts). */
  lingerGraceMs?: number;
}

export class Hypervisor {
  readonly stateDir: string;
  readonly #guestDir: string | undefined;
  readonly #accelOption: Accel | "auto";
  readonly #probeTimeoutMs: number | undefined;
  readonly #lingerGraceMs: number;
  #guest: GuestArtifacts | undefined;
  #accel: Promise<AccelChoice> | undefined;
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #agents = new Map<string, GuestAgent>();

  constructor(opts: HypervisorOptions) {
    this.stateDir = opts.stateDir;
    this.#guestDir = opts.guestDir;
    this.#accelOption = opts.accel ?? "auto";
    this.#probeTimeoutMs = opts.probeTimeoutMs;
    this.#lingerGraceMs = opts.lingerGraceMs ?? LINGER_GRACE_MS;
  }

  get guest(): GuestArtifacts {
    this.#guest ??= findGuest(this.#guestDir);
    return this.#guest;
  }

  /** The accelerator VMs use (probed once per instance, cached on disk across processes). */
  accel(): Promise<AccelChoice> {
    if (this.#accelOption !== "auto") return Promise.resolve({ accel: this.#accelOption, reason: "configured", probeMs: 0 });
    this.#accel ??= probeAccel({ guest: this.guest, ...(this.#probeTimeoutMs ? { timeoutMs: this.#probeTimeoutMs } : {}) });
    return this.#accel;
  }

  paths(id: string): VmPaths {
    return vmPaths(this.stateDir, id);
  }


  /**
   * Boots a VM (or boots it again with its saved spec when only an id is given). Creates missing
   * disks (sparse, ext4; existing disks are never reformatted) and the tap. On failure everything
   * this call created is removed again.
   */
  async start(input: VmSpecInput | { id: string }): Promise<VmStatus> {
    return this.#exclusive(input.id, () => this.#start(input));
  }

  async #start(input: VmSpecInput | { id: string }): Promise<VmStatus> {
    const spec = Object.keys(input).length === 1 && "id" in input ? await this.spec(input.id) : parseVmSpec(input);
    const paths = this.paths(spec.id);
    if (readVmPid(paths.pidfile) !== undefined) throw new VmStateError(`vm ${spec.id} is already running`, { details: { id: spec.id } });
    await this.#endOrphans(spec.id, paths);
    const { accel } = await this.accel();
    const guest = this.guest;
    await mkdir(paths.dir, { recursive: true });
    await writeFile(paths.specFile, JSON.stringify(spec, null, 2) + "\n");
    await rm(paths.configDir, { recursive: true, force: true });
    await writeGuestConfig(paths.configDir, spec);
    await this.#removeRuntimeFiles(paths);

    const createdDisks: string[] = [];
    const createdTaps: string[] = [];
    const nics = vmNics(spec);
    try {
      if (spec.rootDisk && spec.mode === "container") {
        if (await ensureExt4Disk(spec.rootDisk.path, spec.rootDisk.sizeBytes)) createdDisks.push(spec.rootDisk.path);
      } else if (spec.rootDisk) {
        await ensureImageSize(spec.rootDisk.path, spec.rootDisk.sizeBytes).catch((e: unknown) => {
          throw new VmStartError(`vm ${spec.id}: boot image ${spec.rootDisk?.path} is not usable`, { details: { id: spec.id }, cause: e });
        });
      }
      for (const d of spec.disks) if (await ensureExt4Disk(d.path, d.sizeBytes)) createdDisks.push(d.path);
      for (const nic of nics) if (await ensureTap(nic.tap, nic.net.bridge)) createdTaps.push(nic.tap);
      if (spec.mode !== "container") await writeCloudInitSeed(paths.seedDisk, spec);
      const args = buildQemuArgs({ spec, guest, accel, paths, ...(spec.mode !== "container" ? { seedDisk: paths.seedDisk } : {}) });
      await markConsoleStart(paths.consoleLog, `qemu start (${accel})`);
      await runHost(QEMU_BINARY, args, { timeoutMs: 30_000 }).catch((e: unknown) => {
        const details = (e as { details?: { stderr?: string } }).details;
        // a tap someone else holds: name the holder (what to stop), not only QEMU's "busy"
        const busyTap = /\/dev\/net\/tun \((\w+)\): Device or resource busy/.exec(details?.stderr ?? "")?.[1];
        const holders = busyTap ? tapHolders(busyTap) : [];
        const held = holders.length ? `: tap ${busyTap} is held by ${holders.map((h) => `pid ${h.pid} (${h.cmdline})`).join(", ")}` : "";
        throw new VmStartError(`qemu did not start vm ${spec.id}${held}`, { details: { id: spec.id, ...details, ...(holders.length ? { tapHolders: holders } : {}) }, cause: e });
      });
      const pid = readVmPid(paths.pidfile);
      if (pid === undefined) {
        throw new VmStartError(`qemu exited right after starting vm ${spec.id}`, { details: { id: spec.id, consoleTail: await this.consoleTail(spec.id) } });
      }
      await writeFile(paths.desiredFile, "running\n");
      await rm(paths.failureFile, { force: true });
      await rm(join(paths.dir, "held"), { force: true });
      await rm(join(paths.dir, "health"), { force: true });
      log.info({ id: spec.id, pid, accel, taps: nics.map((n) => n.tap) }, "vm started");
      return await this.status(spec.id);
    } catch (e) {
      await this.#killQemu(paths);
      for (const t of createdTaps) await removeTap(t).catch(() => undefined);
      for (const d of createdDisks) await removeDisk(d);
      await this.#removeRuntimeFiles(paths);
      await writeFile(paths.desiredFile, "stopped\n").catch(() => undefined);
      throw e;
    }
  }

  /**
   * Stops the VM, removes its tap, socket and pidfile. Container VMs first get their image's
   * StopSignal delivered to the app by the guest agent (the guest init then syncs, unmounts and
   * powers off); own-kernel and full VMs get an ACPI power-button press. Either has `graceMs`
   * (default 10 s, like docker stop) before QEMU is quit; SIGKILL if quit takes > `timeoutMs`.
   */
  async stop(id: string, opts: { timeoutMs?: number; graceMs?: number; hold?: boolean } = {}): Promise<void> {
    return this.#exclusive(id, () => this.#stop(id, opts));
  }

  async #stop(id: string, opts: { timeoutMs?: number; graceMs?: number; hold?: boolean }): Promise<void> {
    const paths = this.paths(id);
    const spec = await this.spec(id);
    await writeFile(paths.desiredFile, "stopped\n");
    if (opts.hold) await writeFile(join(paths.dir, "held"), "stopped by the owner\n");
    const graceMs = opts.graceMs ?? 10_000;
    const pid = readVmPid(paths.pidfile);
    const paused = pid !== undefined && graceMs > 0 && (await qmpCommand<{ status: string }>(paths.qmpSocket, "query-status").then((r) => r.status === "paused", () => false));
    if (pid !== undefined && graceMs > 0 && !paused && spec.mode === "container") {
      // the app's StopSignal through the agent; a guest whose agent does not answer is quit at once
      const agent = this.agent(id);
      const asked = await agent.signal(spec.stopSignal, Math.min(graceMs, 3_000)).then(() => true, (e: unknown) => {
        log.info({ id, err: (e as Error).message }, "vm stop: the guest agent did not take the stop signal; quitting qemu");
        return false;
      });
      if (asked && !(await waitForExit(pid, graceMs, paths.pidfile))) log.warn({ id, graceMs }, "vm stop: the app did not stop within the grace period; quitting qemu");
    } else if (pid !== undefined && graceMs > 0 && !paused) {
      await qmpCommand(paths.qmpSocket, "system_powerdown").catch(() => undefined);
      await waitForExit(pid, graceMs, paths.pidfile);
    }
    this.#agents.get(id)?.close();
    this.#agents.delete(id);
    await this.#killQemu(paths, opts.timeoutMs ?? 5_000);
    for (const nic of vmNics(spec)) await removeTap(nic.tap);
    await this.#removeRuntimeFiles(paths);
    log.info({ id }, "vm stopped");
  }

  /**
   * Stops a VM that keeps crashing and records why (kept in `<id>/failure` until the next start,
   * shown as `status().failure`, also after a daemon restart). Used by VmMonitor.
   */
  async markFailed(id: string, reason: string): Promise<void> {
    await this.stop(id);
    await writeFile(this.paths(id).failureFile, reason.split("\n")[0]!.slice(0, 500) + "\n");
  }

  /** Stops the VM and removes its state, root disk and every disk not marked `keep`. */
  async delete(id: string): Promise<void> {
    return this.#exclusive(id, () => this.#delete(id));
  }

  async #delete(id: string): Promise<void> {
    const paths = this.paths(id);
    const spec = await this.spec(id).catch((e: unknown) => { if (e instanceof VmNotFoundError) return undefined; throw e; });
    if (spec) {
      await this.#stop(id, {});
      if (spec.rootDisk && !spec.rootDisk.keep) await removeDisk(spec.rootDisk.path);
      for (const d of spec.disks) if (!d.keep) await removeDisk(d.path);
    } else {
      // a state dir without its spec: a create or a delete killed half-way. Whatever still runs of
      // it goes too (its pidfile, its default tap), so a retried delete always ends with nothing.
      await this.#killQemu(paths);
      await removeTap(tapNameFor(id));
    }
    await rm(paths.dir, { recursive: true, force: true });
  }

  /**
   * Runs a command in a running container VM through its guest agent, chrooted into the app's
   * root; workdir and user default to the app's. Output and time are bounded (see GuestAgent).
   */
  async exec(id: string, opts: ExecOptions): Promise<ExecResult> {
    const spec = await this.spec(id);
    if (spec.mode !== "container") throw new VmAgentError(`vm ${id} runs its own kernel (${spec.mode} mode): no guest agent`, { hint: "use ssh into the VM" });
    if (readVmPid(this.paths(id).pidfile) === undefined) throw new VmStateError(`vm ${id} is not running`, { details: { id }, hint: "start it first" });
    return this.agent(id).exec({ workdir: spec.workdir, user: spec.user, ...opts });
  }

  /** A streamed exec (stdin as it comes, output as it arrives, optionally a terminal) in a running container VM. */
  async session(id: string, opts: SessionOptions): Promise<AgentSession> {
    const spec = await this.spec(id);
    if (spec.mode !== "container") throw new VmAgentError(`vm ${id} runs its own kernel (${spec.mode} mode): no guest agent`, { hint: "use ssh into the VM" });
    if (readVmPid(this.paths(id).pidfile) === undefined) throw new VmStateError(`vm ${id} is not running`, { details: { id }, hint: "start it first" });
    return this.agent(id).session({ workdir: spec.workdir, user: spec.user, ...opts });
  }

  /** Delivers a signal to the app of a running container VM. */
  async signalApp(id: string, sig: number): Promise<void> {
    const spec = await this.spec(id);
    if (spec.mode !== "container") throw new VmAgentError(`vm ${id} runs its own kernel (${spec.mode} mode): no guest agent`);
    await this.agent(id).signal(sig);
  }

  /**
   * The guest agent connection of a VM (one per VM, made on first use; QEMU serves one client on
   * the agent socket, so every use in this process goes through this one).
   */
  agent(id: string): GuestAgent {
    let a = this.#agents.get(id);
    if (!a || a.closed) {
      a = new GuestAgent(this.paths(id).agentSocket);
      this.#agents.set(id, a);
    }
    return a;
  }

  async pause(id: string): Promise<void> {
    await this.#qmp(id, "stop");
  }

  async resume(id: string): Promise<void> {
    await this.#qmp(id, "cont");
  }

  /** Live state from the pidfile and QMP; "stopped" when no QEMU runs for the id. */
  async status(id: string): Promise<VmStatus> {
    const paths = this.paths(id);
    const spec = await this.spec(id);
    const desired = await readDesired(paths);
    const failure = await readFailure(paths);
    const base = {
      id, desired, consoleLog: paths.consoleLog,
      taps: vmNics(spec).map((n) => n.tap),
      ...(spec.network ? { tap: vmNics(spec)[0]!.tap } : {}),
      ...(failure ? { failure } : {}),
      ...(existsSync(join(paths.dir, "held")) ? { held: true } : {}),
    } as const;
    const pid = readVmPid(paths.pidfile);
    if (pid === undefined) return { ...base, state: "stopped" };
    if (spec.mode !== "full" && (await this.#endIfLingering(id, paths, pid))) return { ...base, state: "stopped" };
    try {
      const r = await qmpCommand<{ status: string; running: boolean }>(paths.qmpSocket, "query-status");
      const state: VmState = r.status === "running" ? "running" : r.status === "paused" ? "paused" : "unknown";
      return { ...base, state, qemuState: r.status, pid, ...(spec.healthcheck ? { health: await readHealth(paths.dir) } : {}) };
    } catch {
      return { ...base, state: "unknown", pid };
    }
  }

  /**
   * Takes over a VM another (possibly dead) daemon process started: checks its QEMU is alive and
   * answers QMP. Returns its status; throws VmStateError when it is not running.
   */
  async adopt(id: string): Promise<VmStatus> {
    const s = await this.status(id);
    if (s.state === "stopped" || s.state === "unknown") throw new VmStateError(`vm ${id} has no live QEMU to adopt`, { details: { id, state: s.state } });
    log.info({ id, pid: s.pid }, "vm adopted");
    return s;
  }

  /** Ids of all VMs with saved state. */
  list(): Promise<string[]> {
    return listVmIds(this.stateDir);
  }

  /** The saved spec of a VM. */
  spec(id: string): Promise<VmSpec> {
    return readVmSpec(this.paths(id), id);
  }


  /** Last `bytes` of the console log (ttyS0). */
  consoleTail(id: string, bytes = 4096): Promise<string> {
    return consoleTail(this.paths(id).consoleLog, bytes);
  }

  /** Waits until the console log (since the last start) matches `pattern`; returns the match. */
  waitForConsole(id: string, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    return waitForConsole(this.paths(id).consoleLog, pattern, timeoutMs, id);
  }

  /**
   * Waits until a container VM's init execs the entrypoint (`zgrid-init: exec` on the console).
   * Fails fast with VmStartError when init reports `FATAL` or QEMU exits before that.
   */
  waitForEntrypoint(id: string, timeoutMs = 60_000): Promise<void> {
    const paths = this.paths(id);
    return waitForEntrypoint(paths.consoleLog, () => readVmPid(paths.pidfile) !== undefined, timeoutMs, id);
  }

  /** Serializes start/stop/delete of one VM within this process (e.g. the monitor vs the engine). */
  async #exclusive<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#locks.get(id) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.#locks.set(id, tail);
    try {
      return await run;
    } finally {
      if (this.#locks.get(id) === tail) this.#locks.delete(id);
    }
  }

  async #qmp(id: string, command: string): Promise<void> {
    const paths = this.paths(id);
    await this.spec(id);
    if (readVmPid(paths.pidfile) === undefined) throw new VmStateError(`vm ${id} is not running`, { details: { id, command } });
    await qmpCommand(paths.qmpSocket, command);
  }

  /**
   * Ends the QEMU of a guest that said its last word (reboot/power-down) over `lingerGraceMs` ago
   * and is still there (vm-linger.ts), logging what the process was doing. True when it ended it.
   */
  async #endIfLingering(id: string, paths: VmPaths, pid: number): Promise<boolean> {
    const since = await lingeringSince(paths.consoleLog, this.#lingerGraceMs);
    if (since === undefined) return false;
    const qemu = await qmpCommand<{ status: string }>(paths.qmpSocket, "query-status", undefined, { timeoutMs: 2_000 })
      .then((r) => r.status, (e: unknown) => `no answer (${(e as Error).message})`);
    log.warn({ id, pid, guestEndedMsAgo: Date.now() - since, qemu, proc: processDiagnostics(pid) },
      "vm: the guest ended but its qemu is still there; ending it");
    await this.#killQemu(paths);
    return readVmPid(paths.pidfile) === undefined;
  }

  /**
   * A QEMU of this VM that runs although its pidfile does not say so (its pidfile was removed while
   * it still ran: a kill that outlived its wait, a crash between the two) holds the VM's tap and
   * disks: a new start would fail on the tap ("Device or resource busy") or share a disk with it.
   * It is ended before anything new starts, and logged (it is a leak the start repairs).
   */
  async #endOrphans(id: string, paths: VmPaths): Promise<void> {
    for (const pid of processesMentioning(paths.pidfile)) {
      log.warn({ id, pid, proc: processDiagnostics(pid) }, "vm start: an earlier qemu of this vm runs without its pidfile; ending it first");
      killQuietly(pid, "SIGKILL");
      if (!(await waitForExit(pid, 10_000, paths.pidfile))) throw new VmStartError(`vm ${id}: an earlier qemu (pid ${pid}) of this vm does not exit`, { details: { id, pid } });
    }
  }

  async #killQemu(paths: VmPaths, timeoutMs = 5_000): Promise<void> {
    const pid = readVmPid(paths.pidfile);
    if (pid === undefined) return;
    await qmpCommand(paths.qmpSocket, "quit", undefined, { timeoutMs: 2_000 }).catch(() => undefined);
    if (!(await waitForExit(pid, timeoutMs, paths.pidfile))) {
      killQuietly(pid, "SIGKILL");
      await waitForExit(pid, 5_000, paths.pidfile);
    }
  }

  async #removeRuntimeFiles(paths: VmPaths): Promise<void> {
    await rm(paths.qmpSocket, { force: true });
    await rm(paths.agentSocket, { force: true });
    await rm(paths.pidfile, { force: true });
  }

}
