/**
 * Every process the local grid starts for a node host (each zosd start and restart) is appended
 * to `<node dir>/processes.jsonl`, so `zgrid down` stops all of them — also a daemon restarted
 * after the one `up` first started died — and nothing points at a dead pid for long.
 *
 * @example
 * ```ts
 * recordProcess(nodeDir, { pid: child.pid!, program: "zosd", marker: configPath });
 * stopRecordedProcesses(nodeDir); // SIGTERM, then SIGKILL, every recorded one still alive
 * ```
 */
import { appendFileSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

export interface ProcessRecord {
  pid: number;
  program: string;
  /** A string its command line contains (guards against pid reuse). */
  marker: string;
  /** Start time, ms since the epoch. */
  at: number;
}

const file = (nodeDir: string) => join(nodeDir, "processes.jsonl");

export function recordProcess(nodeDir: string, r: Omit<ProcessRecord, "at">): void {
  appendFileSync(file(nodeDir), JSON.stringify({ ...r, at: Date.now() }) + "\n");
}

/** Every record of the node (oldest first); unreadable lines are skipped. */
export function recordedProcesses(nodeDir: string): ProcessRecord[] {
  let text = "";
  try {
    text = readFileSync(file(nodeDir), "utf8");
  } catch {
    return [];
  }
  return text.split("\n").filter(Boolean).flatMap((l) => {
    try {
      const r = JSON.parse(l) as ProcessRecord;
      return Number.isInteger(r.pid) && r.pid > 0 && typeof r.marker === "string" ? [r] : [];
    } catch {
      return [];
    }
  });
}

/** True when `r` still runs (alive, not a zombie, and its command line has the marker). */
export function isRunning(r: Pick<ProcessRecord, "pid" | "marker">): boolean {
  try {
    const stat = readFileSync(`/proc/${r.pid}/stat`, "utf8");
    if (/^[ZX]$/.test(stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3))) return false;
    return readFileSync(`/proc/${r.pid}/cmdline`, "utf8").includes(r.marker);
  } catch {
    return false;
  }
}

/** Stops every recorded process still running (SIGTERM, SIGKILL after `graceMs`), then forgets them. */
export async function stopRecordedProcesses(nodeDir: string, graceMs = 10_000): Promise<number[]> {
  const live = recordedProcesses(nodeDir).filter(isRunning);
  for (const r of live) signal(r.pid, "SIGTERM");
  const end = Date.now() + graceMs;
  while (live.some(isRunning) && Date.now() < end) await new Promise((res) => setTimeout(res, 100));
  for (const r of live.filter(isRunning)) signal(r.pid, "SIGKILL");
  rmSync(file(nodeDir), { force: true });
  return live.map((r) => r.pid);
}

/**
 * SIGKILLs the node's recorded BMCs (`zbmc`, local grid with `--bmc`), then the zosd its pid file
 * names (`<node dir>/bmc/zosd.pid`), which a BMC may have started after the host last recorded one.
 */
export function stopBmcs(nodeDir: string): number[] {
  const bmcs = recordedProcesses(nodeDir).filter((r) => r.program === "zbmc" && isRunning(r));
  for (const r of bmcs) signal(r.pid, "SIGKILL");
  const killed = bmcs.map((r) => r.pid);
  try {
    const pid = Number(readFileSync(join(nodeDir, "bmc", "zosd.pid"), "utf8").trim());
    if (Number.isInteger(pid) && pid > 0 && isRunning({ pid, marker: join(nodeDir, "zos.json") })) {
      signal(pid, "SIGKILL");
      killed.push(pid);
    }
  } catch {
    // no BMC here
  }
  return killed;
}

function signal(pid: number, s: NodeJS.Signals): void {
  try {
    process.kill(pid, s);
  } catch {
    // already gone
  }
}
