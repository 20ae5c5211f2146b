/**
 * Ctrl-C during a long step: the first SIGINT aborts the operation (which rolls back its
 * contracts) and the command exits 130 once that is done; a second SIGINT exits at once.
 *
 * @example
 * ```ts
 * await withInterrupt(io, (signal) => grid.vms.deploy(model, { signal }));
 * ```
 */
import type { Output } from "./output.ts";

export async function withInterrupt<T>(io: Output, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  let count = 0;
  const onSignal = () => {
    count++;
    if (count === 1) {
      io.progress("interrupted: rolling back (Ctrl-C again to quit at once and leave contracts behind)");
      ac.abort();
    } else {
      process.exit(130);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await run(ac.signal);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
