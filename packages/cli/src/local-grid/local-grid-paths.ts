/**
 * Paths of the local grid that both `zgrid up` (host) and `zgrid down` need.
 *
 * @example
 * ```ts
 * vmStateDirFor("/var/lib/zgrid", 0); // "/tmp/zgv-1a2b3c4d-0"
 * ```
 */
import { createHash } from "node:crypto";

/** A short per-data-dir directory for VM sockets (QMP paths must fit 107 bytes). */
export function vmStateDirFor(dataDir: string, index: number): string {
  return `/tmp/zgv-${createHash("sha256").update(dataDir).digest("hex").slice(0, 8)}-${index}`;
}
