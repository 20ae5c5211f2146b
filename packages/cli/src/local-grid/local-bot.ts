/**
 * The local twin's 3bot as a background process of the local grid: `zgrid up --bot` starts
 * `zgrid bot run` detached (log `<data dir>/3bot.log`, recorded in `<data dir>/bot/processes.jsonl`
 * against pid reuse); `zgrid down` stops it FIRST (a running bot would re-place what down cancels).
 *
 * @example
 * ```ts
 * startLocalBot("/root/.zgrid/local"); await stopLocalBot("/root/.zgrid/local");
 * ```
 */
import { spawn } from "node:child_process";
import { mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isRunning, recordProcess, recordedProcesses, stopRecordedProcesses } from "./node-processes.ts";

const ZGRID = fileURLToPath(new URL("../../bin/zgrid.ts", import.meta.url));

/** Starts the bot unless one runs already; returns its pid. */
export function startLocalBot(dataDir: string, args: string[] = []): number {
  const dir = join(dataDir, "bot");
  mkdirSync(dir, { recursive: true });
  const running = recordedProcesses(dir).find((r) => isRunning(r));
  if (running) return running.pid;
  const log = openSync(join(dataDir, "3bot.log"), "a");
  const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", ZGRID, "--data-dir", dataDir, "bot", "run", ...args], { detached: true, stdio: ["ignore", log, log] });
  child.unref();
  recordProcess(dir, { pid: child.pid!, program: "zgrid-bot", marker: dataDir });
  return child.pid!;
}

/** Stops every recorded bot process of the data dir (SIGTERM, then SIGKILL). */
export async function stopLocalBot(dataDir: string): Promise<number[]> {
  return stopRecordedProcesses(join(dataDir, "bot"), 5_000);
}
