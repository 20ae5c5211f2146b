/**
 * Gives back the memory a process grew while starting. Loading libp2p and its dependencies leaves
 * V8's young generation grown to its maximum (16 MiB semi-spaces) and the old generation
 * fragmented; Node has no idle-time GC, so an idle peer keeps ~40 MiB it no longer uses
 * (bench/bus: idle RSS 160 MiB → ~110 MiB). One "last resort" collection — what V8 does on a
 * low-memory notification: full GCs that compact and shrink both generations — a few seconds
 * after start releases it. Once per process, on an unref'd timer, ~20-100 ms of one thread.
 * The collector is reached through V8's own gc extension in a throwaway context (the documented
 * `setFlagsFromString("--expose-gc")` way); the flag is turned off again at once, so no other
 * code sees a global `gc`.
 *
 * @example
 * ```ts
 * scheduleStartupMemoryRelease(5_000); // createBus does this after the node started
 * ```
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

type Gc = (options: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;

let scheduled = false;

/** Runs one memory-reducing full GC `delayMs` from now, once per process; false if already planned. */
export function scheduleStartupMemoryRelease(delayMs: number): boolean {
  if (scheduled || delayMs < 0) return false;
  scheduled = true;
  setTimeout(releaseStartupMemory, delayMs).unref();
  return true;
}

/** One memory-reducing full GC now (synchronous). */
export function releaseStartupMemory(): void {
  let gc: Gc | undefined = (globalThis as { gc?: Gc }).gc;
  if (!gc) {
    setFlagsFromString("--expose-gc");
    try {
      gc = runInNewContext("gc") as Gc;
    } finally {
      setFlagsFromString("--no-expose-gc");
    }
  }
  gc({ type: "major", execution: "sync", flavor: "last-resort" });
}
