/**
 * Test support: listen a server on a free loopback port, and pick a free port for a process that
 * binds it itself (HAProxy, a registry). The picked port is below the ephemeral range, so only
 * another explicit picker could take it before the process binds it.
 *
 * @example
 * ```ts
 * const port = await listenLocal(createServer(handler)); // 127.0.0.1:port serves
 * const forHaproxy = await freeLocalPort();
 * ```
 */
import type { AddressInfo, Server } from "node:net";
import { freePort } from "@zgrid/types/free-port";

/** Listens `s` on 127.0.0.1 with a port the kernel picks; resolves that port. */
export function listenLocal(s: Server): Promise<number> {
  return new Promise((resolve) => s.listen(0, "127.0.0.1", () => resolve((s.address() as AddressInfo).port)));
}

/** A port free right now, below the kernel's ephemeral range (see `@zgrid/types/free-port`). */
export function freeLocalPort(): Promise<number> {
  return freePort();
}
