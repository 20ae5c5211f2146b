/**
 * Capacity of workloads and deployments, in bytes and cores, and its arithmetic.
 *
 * @example
 * ```ts
 * addCapacity({ ...ZERO_CAPACITY, cru: 2 }, { ...ZERO_CAPACITY, mru: GiB }); // { cru: 2, mru: GiB, ... }
 * ```
 */
export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** Resources a workload reserves (REFERENCE.md: cru cores; mru, sru, hru bytes; ipv4u addresses). */
export interface Capacity {
  cru: number;
  mru: number;
  sru: number;
  hru: number;
  ipv4u: number;
}

export const ZERO_CAPACITY: Readonly<Capacity> = Object.freeze({ cru: 0, mru: 0, sru: 0, hru: 0, ipv4u: 0 });

const KEYS = ["cru", "mru", "sru", "hru", "ipv4u"] as const;

/** Sum of capacities. */
export function addCapacity(...caps: readonly Capacity[]): Capacity {
  const out: Capacity = { ...ZERO_CAPACITY };
  for (const c of caps) for (const k of KEYS) out[k] += c[k];
  return out;
}

/** a - b, never below zero per resource (used capacity can exceed a changed total). */
export function subtractCapacity(a: Capacity, b: Capacity): Capacity {
  const out: Capacity = { ...ZERO_CAPACITY };
  for (const k of KEYS) out[k] = Math.max(0, a[k] - b[k]);
  return out;
}

/** Resources of `need` that do not fit in `free`, empty when it fits. */
export function missingCapacity(need: Capacity, free: Capacity): Array<{ resource: keyof Capacity; need: number; free: number }> {
  return KEYS.filter((k) => need[k] > free[k]).map((k) => ({ resource: k, need: need[k], free: free[k] }));
}

/** "2 cpu, 4 GiB memory, 10 GiB ssd" — for messages. */
export function formatCapacity(c: Capacity): string {
  const parts: string[] = [];
  if (c.cru) parts.push(`${c.cru} cpu`);
  if (c.mru) parts.push(`${formatBytes(c.mru)} memory`);
  if (c.sru) parts.push(`${formatBytes(c.sru)} ssd`);
  if (c.hru) parts.push(`${formatBytes(c.hru)} hdd`);
  if (c.ipv4u) parts.push(`${c.ipv4u} public ipv4`);
  return parts.length ? parts.join(", ") : "nothing";
}

/** 1536 -> "1.5 KiB"; exact values stay integral ("2 GiB"). */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}
