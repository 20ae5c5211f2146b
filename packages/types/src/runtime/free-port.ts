/**
 * Free TCP ports for a process that binds them itself later (a child, a daemon restarted on the
 * same port). Ports come from BELOW the kernel's ephemeral range: "listen on port 0 and close"
 * hands out a port from that range, which every other socket on the machine (outgoing connections,
 * servers on port 0, a test suite's parallel files) draws from too, so between the pick and the
 * bind someone else takes it (CI saw `EADDRINUSE`). The kernel never hands out a port below the
 * range by itself; only another explicit picker could collide, and each pick is random.
 *
 * @example
 * ```ts
 * const port = await freePort();          // e.g. 24817: nothing listens on it on any address
 * const base = await freePortBlock(4);    // base..base+3 all free
 * ```
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

const LOWEST = 20_000;

/** The kernel's ephemeral range's first port (32768 when it cannot be read). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > LOWEST + 1024 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** True when nothing listens on `port` on any address (the v4 and the v6 wildcard bind both succeed). */
export function portFree(port: number): Promise<boolean> {
  const tryHost = (host: string) => new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once("error", (e: NodeJS.ErrnoException) => resolve(e.code === "EADDRNOTAVAIL" || e.code === "EAFNOSUPPORT"));
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(true)));
  });
  return tryHost("0.0.0.0").then((v4) => (v4 ? tryHost("::") : false));
}

/** The first of `count` consecutive ports, all free right now, below the ephemeral range. */
export async function freePortBlock(count: number): Promise<number> {
  if (!Number.isInteger(count) || count < 1 || count > 1024) throw new RangeError(`freePortBlock(${count}): give 1 to 1024 ports`);
  const top = ephemeralLow() - count;
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = LOWEST + Math.floor(Math.random() * (top - LOWEST));
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free TCP ports between ${LOWEST} and ${top}: stop what holds them`);
}

/** One port, free right now, below the ephemeral range. */
export function freePort(): Promise<number> {
  return freePortBlock(1);
}
