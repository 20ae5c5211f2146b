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
import { readFileSync } from "node:fs";

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
