/**
 * The node's total capacity, measured: logical CPUs, RAM, and the size of the file system holding
 * the data dir as SSD. (Separate HDD pools are not detected yet; hru stays 0 unless configured.)
 *
 * @example
 * ```ts
 * measureCapacity("/var/lib/zos"); // { cru: 2, mru: 25_000_000_000, sru: 270_000_000_000, hru: 0, ipv4u: 0 }
 * ```
 */
import { statfsSync } from "node:fs";
import { availableParallelism, totalmem } from "node:os";
import type { Capacity } from "@zgrid/types";

export function measureCapacity(dataDir: string, override: Partial<Capacity> = {}): Capacity {
  const fs = statfsSync(dataDir);
  return {
    cru: availableParallelism(),
    mru: totalmem(),
    sru: Number(fs.blocks) * Number(fs.bsize),
    hru: 0,
    ipv4u: 0,
    ...override,
  };
}
