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

/** Pids of the processes in /proc (this one excluded). */
function procPids(): number[] {
  return readdirSync("/proc").map(Number).filter((pid) => Number.isInteger(pid) && pid > 0 && pid !== process.pid);
}

/**
 * Live processes whose command line mentions `marker` (a VM's pidfile path, unique to the VM):
 * a QEMU of the VM that runs although its pidfile does not say so (an orphan: its pidfile was
 * removed while it still ran) shows up here, and only here.
 */
export function processesMentioning(marker: string): number[] {
  return procPids().filter((pid) => isVmProcess(pid, marker));
}

/**
 * The processes holding a tap device open (its tun fd's fdinfo names it: `iff:\t<tap>`), with their
 * command lines: who is in the way when QEMU's tap open fails with "Device or resource busy".
 */
export function tapHolders(tap: string): Array<{ pid: number; cmdline: string }> {
  const read = (path: string): string => {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return ""; // gone meanwhile, or not ours to read
    }
  };
  const holds = (pid: number): boolean => {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fdinfo`);
    } catch {
      return false;
    }
    return fds.some((fd) => read(`/proc/${pid}/fdinfo/${fd}`).split("\n").includes(`iff:\t${tap}`));
  };
  return procPids().filter(holds).map((pid) => ({ pid, cmdline: read(`/proc/${pid}/cmdline`).split("\0").join(" ").trim().slice(0, 300) }));
}

/** What a process is doing, for the log: its state, kernel wait channel and its threads' states. */
export function processDiagnostics(pid: number): string {
  const state = (p: string): string => {
    try {
      const s = readFileSync(`${p}/stat`, "utf8");
      const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
      return `${f[0]} utime ${f[11]} stime ${f[12]}`;
    } catch {
      return "gone";
    }
  };
  const wchan = (p: string): string => {
    try {
      return readFileSync(`${p}/wchan`, "utf8") || "-";
    } catch {
      return "?";
    }
  };
  let threads: string[] = [];
  try {
    threads = readdirSync(`/proc/${pid}/task`).map((t) => {
      const p = `/proc/${pid}/task/${t}`;
      let comm = "";
      try {
        comm = readFileSync(`${p}/comm`, "utf8").trim();
      } catch { /* gone */ }
      return `${t}/${comm}: ${state(p)} wchan ${wchan(p)}`;
    });
  } catch { /* gone */ }
  return `process ${state(`/proc/${pid}`)} wchan ${wchan(`/proc/${pid}`)}; threads ${threads.join("; ")}`;
}
