/**
 * Picks the accelerator: KVM only if a guest really boots with it. On these machines /dev/kvm
 * exists but KVM guests hang (nested virtualization), so the probe boots the guest kernel with
 * `zgrid.probe` (init prints ZGRID-PROBE-OK and reboots) under a timeout and falls back to TCG.
 * The answer is cached in memory and in a file keyed by the host boot id and kernel release.
 *
 * @example
 * ```ts
 * const { accel, reason } = await probeAccel({ guest: findGuest() });  // { accel: "tcg", reason: "kvm boot timed out after 8000 ms" }
 * ```
 */
import { spawn } from "node:child_process";
import { constants, accessSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "@zgrid/log";
import type { GuestArtifacts } from "./guest-artifacts.ts";
import { QEMU_BINARY, accelArgs, kernelCmdline, type Accel } from "./qemu-command.ts";

const log = createLogger("zos.hypervisor.accel");

export interface AccelChoice {
  accel: Accel;
  reason: string;
  /** How long the probe boot took (ms); 0 when the answer came from a cache. */
  probeMs: number;
}

export interface ProbeOptions {
  guest: GuestArtifacts;
  /** KVM boot must print the marker within this time (default 8000 ms; a working KVM needs < 1 s). */
  timeoutMs?: number;
  /** Where to cache the answer (default the guest dir). */
  cacheFile?: string;
  /** Ignore caches and probe again. */
  force?: boolean;
  /** Probe this accelerator (tests use "tcg" to check that a guest boots at all). */
  accel?: Accel;
}

const memo = new Map<string, AccelChoice>();

function bootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return "unknown";
  }
}

/** Boots the guest kernel once with `accel`; resolves true if it reached userspace in time. */
export function probeBoot(guest: GuestArtifacts, accel: Accel, timeoutMs: number): Promise<{ ok: boolean; ms: number; output: string }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(QEMU_BINARY, [
      "-M", "microvm", ...accelArgs(accel), "-m", "128", "-smp", "1",
      "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
      "-kernel", guest.kernel, "-initrd", guest.initrd,
      "-append", kernelCmdline(["zgrid.probe"]), "-serial", "stdio",
    ], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      resolve({ ok, ms: Date.now() - started, output: output.slice(-4000) });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    const onData = (d: Buffer): void => {
      output += d.toString("utf8");
      if (output.includes("ZGRID-PROBE-OK")) finish(true);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", () => finish(false));
    child.on("exit", () => finish(output.includes("ZGRID-PROBE-OK")));
  });
}

/** KVM if a KVM guest boots, else TCG; cached. */
export async function probeAccel(opts: ProbeOptions): Promise<AccelChoice> {
  const timeoutMs = opts.timeoutMs ?? 8_000;
  const wanted = opts.accel ?? "kvm";
  const key = `${bootId()}|${opts.guest.release}|${wanted}`;
  const cacheFile = opts.cacheFile ?? join(opts.guest.dir, "accel-probe.json");
  if (!opts.force) {
    const hit = memo.get(key) ?? readCache(cacheFile, key);
    if (hit) return { ...hit, probeMs: 0 };
  }
  let choice: AccelChoice;
  if (wanted === "kvm" && !canOpenKvm()) {
    choice = { accel: "tcg", reason: "/dev/kvm not usable", probeMs: 0 };
  } else {
    const r = await probeBoot(opts.guest, wanted, timeoutMs);
    if (r.ok) choice = { accel: wanted, reason: `${wanted} guest booted in ${r.ms} ms`, probeMs: r.ms };
    else {
      const last = r.output.trim().split("\n").at(-1) ?? "";
      const why = r.ms < timeoutMs ? `qemu exited after ${r.ms} ms: ${last}` : `no userspace within ${timeoutMs} ms (guest hangs)`;
      choice = { accel: "tcg", reason: `${wanted} probe failed: ${why}`, probeMs: r.ms };
    }
  }
  log.info(choice, "accelerator chosen");
  memo.set(key, choice);
  try {
    writeFileSync(cacheFile, JSON.stringify({ key, ...choice }) + "\n");
  } catch {
    /* cache is best effort */
  }
  return choice;
}

function canOpenKvm(): boolean {
  try {
    accessSync("/dev/kvm", constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function readCache(file: string, key: string): AccelChoice | undefined {
  try {
    const c = JSON.parse(readFileSync(file, "utf8")) as AccelChoice & { key: string };
    return c.key === key ? { accel: c.accel, reason: c.reason, probeMs: c.probeMs } : undefined;
  } catch {
    return undefined;
  }
}
