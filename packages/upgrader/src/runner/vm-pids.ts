/**
 * The QEMU processes of a node (by its VM state dir on their command line), to prove an upgrade
 * left every VM untouched: the same pids before and after the switch.
 *
 * @example
 * ```ts
 * const before = qemuPids("/tmp/zv-abc");   // [4711, 4790]
 * // … switch zosd …
 * qemuPids("/tmp/zv-abc");                  // the same pids: no VM restarted
 * ```
 */
import { readFileSync, readdirSync } from "node:fs";

export function qemuPids(vmStateDir: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const args = readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0");
      if (/qemu-system/.test(args[0] ?? "") && args.some((a) => a.includes(vmStateDir))) out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out.sort((a, b) => a - b);
}

/** True when `pid` runs and is not a zombie. */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3));
  } catch {
    return false;
  }
}
