/**
 * A mount process started ahead of need: Node started, modules loaded, the FUSE addon opened,
 * waiting for its options over IPC. A persistent mount (the node daemon makes one per VM) then
 * costs the FUSE mount only, not a process start: 0.25–0.4 s, most of zosd's time before QEMU
 * starts (bench/zos/deploy.ts).
 *
 * The standby is detached like every persistent mount worker, but bound to its parent until used:
 * when the parent dies (SIGKILL too) the IPC channel closes and the standby exits and removes its
 * log, so nothing is left. Once given a mountpoint it rewrites its command line (process.title,
 * into the room its padding argument reserved) to exactly what a cold worker's would read, so
 * whatever finds mount workers by command line (a restarted daemon re-adopting, leftover sweeps)
 * finds it the same way. Its log is renamed to `<mountpoint>.log`, as a cold worker's would be.
 *
 * @example
 * ```ts
 * startMountStandby("/var/lib/zos/cache");          // after the daemon starts, and after each use
 * const s = takeMountStandby();                     // undefined: none ready, fork a cold worker
 * s?.start(workerArgs, "/var/lib/zos/mnt/7-12-vm/root");
 * ```
 */
import { fork, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { closeSync, openSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** First argument of a standby worker; the second is its log, the third the title's room. */
export const STANDBY_ARG = "--standby";
/** Bytes reserved for the command line a standby takes on (its options as JSON fit easily). */
const TITLE_ROOM = 16 * 1024;
export const WORKER_SCRIPT = fileURLToPath(new URL("./mount-worker.ts", import.meta.url));
export const WORKER_EXEC_ARGV = ["--no-warnings"];

/** The command line of a cold worker given `args` (what a standby takes on when started). */
export function workerTitle(args: unknown): string {
  return [process.execPath, ...WORKER_EXEC_ARGV, WORKER_SCRIPT, JSON.stringify(args)].join(" ");
}

export interface MountStandby {
  child: ChildProcess;
  /** Hands the standby its options; false when they do not fit its command line (fork a cold one). */
  start(args: unknown, mountpoint: string): boolean;
}

interface Spare {
  child: ChildProcess;
  log: string;
  listening: boolean;
}

let spare: Spare | undefined;

/** Starts the process's one standby mount worker (logging to `logDir`) unless one exists. */
export function startMountStandby(logDir: string): void {
  if (spare && spare.child.exitCode === null && spare.child.signalCode === null) return;
  const log = join(logDir, `.mount-standby-${randomUUID()}.log`);
  let fd: number;
  try {
    fd = openSync(log, "a");
  } catch {
    return; // no log directory (yet): the next mount forks a cold worker
  }
  const child = fork(WORKER_SCRIPT, [STANDBY_ARG, log, "_".repeat(TITLE_ROOM)], { stdio: ["ignore", fd, fd, "ipc"], execArgv: WORKER_EXEC_ARGV, detached: true });
  closeSync(fd);
  const mine: Spare = { child, log, listening: false };
  spare = mine;
  child.on("message", (m: { type?: string }) => { if (m.type === "standby") mine.listening = true; });
  child.once("exit", () => {
    if (spare === mine) spare = undefined;
    rmSync(log, { force: true }); // its own cleanup may not have run (SIGKILL)
  });
  // the standby must not keep its parent alive (a CLI, a test runner)
  child.unref();
  (child.channel as { unref?: () => void } | null | undefined)?.unref?.();
}

/** The standby's pid and whether it takes work yet (undefined: none). */
export function mountStandbyState(): { pid: number; listening: boolean } | undefined {
  return spare?.child.pid === undefined ? undefined : { pid: spare.child.pid, listening: spare.listening };
}

/** Ends the standby (it removes its log); harmless when there is none. No new one starts until asked. */
export function stopMountStandby(): void {
  clearTimeout(pending);
  pending = undefined;
  spare?.child.kill("SIGTERM");
  spare = undefined;
}

let pending: NodeJS.Timeout | undefined;

/** Starts the standby after `delayMs` (a Node start now would take CPU from a VM booting). */
export function startMountStandbySoon(logDir: string, delayMs: number): void {
  clearTimeout(pending);
  pending = setTimeout(() => {
    pending = undefined;
    startMountStandby(logDir);
  }, delayMs).unref();
}

/** The ready standby, now owned by the caller (undefined when none is listening yet). */
export function takeMountStandby(): MountStandby | undefined {
  const s = spare;
  if (!s || !s.listening || !s.child.connected || s.child.exitCode !== null) return undefined;
  spare = undefined;
  return {
    child: s.child,
    start(args, mountpoint) {
      const title = workerTitle(args);
      if (Buffer.byteLength(title) >= TITLE_ROOM) {
        s.child.kill("SIGTERM");
        return false;
      }
      try {
        renameSync(s.log, `${mountpoint}.log`);
      } catch {
        // another file system: the log stays under the cache directory's standby name
      }
      s.child.removeAllListeners("exit"); // its log is the mount's now
      s.child.send({ type: "start", options: args, title });
      return true;
    },
  };
}
