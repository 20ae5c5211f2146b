/**
 * The farm's energy model: watts per node by power state, turned into kWh. Defaults are rounded
 * from published figures for a 1U dual-socket server (SPECpower_ssj2008 results of 2019–2023
 * Xeon/EPYC systems: "active idle" 50–110 W, 100% load 250–450 W over 64–128 hardware threads, i.e.
 * 2.5–4 W per busy thread) and for ATX/server PSUs in soft-off with the BMC and a WoL-armed NIC
 * powered (3–10 W, e.g. IPMI BMCs draw ~3–5 W). A farm sets its own measured figures in the policy.
 *
 * | field | default | meaning |
 * |---|---|---|
 * | idleWatts | 80 | a node on, no work |
 * | wattsPerBusyCore | 3 | added per vCPU kept busy |
 * | offWatts | 5 | a node in standby (soft-off, BMC + NIC armed) |
 * | vmCpuDuty | 0.25 | how busy a reserved vCPU is on average (cloud VM traces report mean CPU use of 10–30%) |
 *
 * @example
 * ```ts
 * const m = energyModelSchema.parse({});
 * kwh(m, { onSeconds: 86400, offSeconds: 0, reservedCoreSeconds: 4 * 86400 });  // (80 + 4·0.25·3) W · 24 h = 1.99 kWh
 * ```
 */
import { z } from "zod";

export const energyModelSchema = z.strictObject({
  idleWatts: z.number().min(0).max(10_000).default(80),
  wattsPerBusyCore: z.number().min(0).max(1_000).default(3),
  offWatts: z.number().min(0).max(1_000).default(5),
  vmCpuDuty: z.number().min(0).max(1).default(0.25),
});
export type EnergyModel = z.output<typeof energyModelSchema>;

/** Seconds a node spent on and off, and vCPU-seconds reserved by its workloads while on. */
export interface PowerDurations {
  onSeconds: number;
  offSeconds: number;
  reservedCoreSeconds: number;
}

/** kWh the node used in those durations. */
export function kwh(m: EnergyModel, d: PowerDurations): number {
  const joules = d.onSeconds * m.idleWatts + d.offSeconds * m.offWatts + d.reservedCoreSeconds * m.vmCpuDuty * m.wattsPerBusyCore;
  return joules / 3_600_000;
}

/** kWh the same node would have used never powered off (same work, on the whole time). */
export function alwaysOnKwh(m: EnergyModel, d: PowerDurations): number {
  return kwh(m, { onSeconds: d.onSeconds + d.offSeconds, offSeconds: 0, reservedCoreSeconds: d.reservedCoreSeconds });
}

export interface EnergyReport {
  kwh: number;
  alwaysOnKwh: number;
  savedKwh: number;
  /** alwaysOnKwh / kwh (how many times less energy than always-on). */
  ratio: number;
  /** Scaled to 24 h of the window measured. */
  kwhPerDay: number;
  seconds: number;
}

/** The farm's energy over the nodes' durations (summed). */
export function energyReport(m: EnergyModel, nodes: PowerDurations[]): EnergyReport {
  const used = nodes.reduce((s, d) => s + kwh(m, d), 0);
  const base = nodes.reduce((s, d) => s + alwaysOnKwh(m, d), 0);
  const seconds = nodes.length ? Math.max(...nodes.map((d) => d.onSeconds + d.offSeconds)) : 0;
  return { kwh: used, alwaysOnKwh: base, savedKwh: base - used, ratio: used > 0 ? base / used : 1, kwhPerDay: seconds > 0 ? (used * 86400) / seconds : 0, seconds };
}
