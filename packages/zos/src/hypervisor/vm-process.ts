/**
 * The QEMU process of a VM, seen through its pidfile: liveness that survives pid reuse (the
 * process's command line must mention the VM's pidfile) and zombies (a dead QEMU whose parent has
 * not reaped it counts as dead).
 *
 * @example
 * ```ts
 * const pid = readVmPid(pidfile);                  // undefined when not running
 * if (pid) await waitForExit(pid, 5_000);
 * ```
 */
import { readFileSync, readdirSync } from "node:fs";

/** True when `pid` is a live (non-zombie) process whose command line contains `marker`. */
export function isVmProcess(pid: number, marker: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (state === "Z" || state === "X") return false;
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").some((a) => a.includes(marker));
  } catch {
    return false;
  }
}

/** The pid from a QEMU pidfile if that process is alive and is this VM's QEMU. */
export function readVmPid(pidfile: string): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(pidfile, "utf8").trim(), 10);
  } catch {
    return undefined;
  }
  return Number.isInteger(pid) && pid > 0 && isVmProcess(pid, pidfile) ? pid : undefined;
}

/** Polls until the process is gone (or a zombie). Returns false on timeout. */
export async function waitForExit(pid: number, timeoutMs: number, marker = ""): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isVmProcess(pid, marker)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !isVmProcess(pid, marker);
}

export function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

/**
 * Live processes whose command line mentions `marker` (a VM's pidfile path, unique to the VM):
 * a QEMU of the VM that runs although its pidfile does not say so (an orphan: its pidfile was
 * removed while it still ran) shows up here, and only here.
 */
export function processesMentioning(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue;
    if (isVmProcess(pid, marker)) found.push(pid);
  }
  return found;
}

/**
 * The processes holding a tap device open (its tun fd's fdinfo names it: `iff:\t<tap>`), with their
 * command lines: who is in the way when QEMU's tap open fails with "Device or resource busy".
 */
export function tapHolders(tap: string): Array<{ pid: number; cmdline: string }> {
  const holders: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fdinfo`);
    } catch {
      continue;
    }
    const holds = fds.some((fd) => {
      try {
        return readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8").split("\n").some((l) => l === `iff:\t${tap}`);
      } catch {
        return false;
      }
    });
    if (holds) {
      let cmdline = "";
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim().slice(0, 300);
      } catch { /* gone */ }
      holders.push({ pid, cmdline });
    }
  }
  return holders;
}
