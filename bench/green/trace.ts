/**
 * The farm-day's workload trace, generated before the day runs (so every policy and placement of a
 * seed sees the very same VMs) and calibrated: the VMs' reserved vCPU-seconds over the day are
 * exactly `utilisation` of the farm's (lifetimes scaled by one common factor, found by bisection).
 *
 * Shape: VMs of 1, 2 or 4 vCPUs (equally likely), lifetimes exponential (mean `vmHours` before
 * calibration), Poisson arrivals whose rate follows a diurnal curve (peak 15:00, trough 03:00,
 * ±`swing`). The VMs alive at 00:00 are the curve's periodic steady state (occupancy lags the
 * arrival rate: amplitude / sqrt(1 + (ωT)²), phase atan(ωT)), their remaining lifetimes exponential.
 *
 * @example
 * ```ts
 * const t = diurnalTrace({ seed: 7, hours: 24, utilisation: 0.2, totalCores: 768, vmHours: 2, swing: 0.8 });
 * t.arrivals[0]; // { at: 41.2, cores: 2, seconds: 5230.7, consent: 0.31 }
 * t.offered;     // 0.2 (of 768 vCPUs over 24 h)
 * ```
 */

/** `consent`: uniform in [0, 1); the VM is movable in a run whose movable share is above it. */
export interface TraceVm { cores: number; seconds: number; consent: number }
export interface TraceArrival extends TraceVm { at: number }
export interface DiurnalTrace { initial: TraceVm[]; arrivals: TraceArrival[]; lifetimeScale: number; offered: number }
export interface TraceOptions { seed: number; hours: number; utilisation: number; totalCores: number; vmHours: number; swing: number }

/** mulberry32 (as packages/zos/src/testing/seeded-random.ts): a seeded run replays exactly. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SIZES = [1, 2, 4];

export function diurnalTrace(o: TraceOptions): DiurnalTrace {
  const rand = rng(o.seed * 7919 + 1);
  const T = o.vmHours * 3600;
  const horizon = o.hours * 3600;
  const meanCores = SIZES.reduce((a, b) => a + b) / SIZES.length;
  const base = (o.utilisation * o.totalCores) / meanCores / T; // arrivals per second
  const phase = (t: number) => 2 * Math.PI * (t / 86400 - 9 / 24);
  const rate = (t: number) => base * (1 + o.swing * Math.sin(phase(t)));
  const life = () => -Math.log(1 - rand()) * T;
  const size = () => SIZES[Math.floor(rand() * SIZES.length)]!;
  const wT = (2 * Math.PI * T) / 86400;
  const occupancy0 = base * T * (1 + (o.swing * Math.sin(phase(0) - Math.atan(wT))) / Math.sqrt(1 + wT * wT));
  const initial = Array.from({ length: Math.round(occupancy0) }, () => ({ cores: size(), seconds: life(), consent: 0 }));
  // Non-homogeneous Poisson arrivals by thinning against the peak rate.
  const peak = base * (1 + o.swing);
  const arrivals: TraceArrival[] = [];
  for (let t = -Math.log(1 - rand()) / peak; t < horizon; t += -Math.log(1 - rand()) / peak) {
    if (rand() * peak <= rate(t)) arrivals.push({ at: t, cores: size(), seconds: life(), consent: 0 });
  }
  // Consent is drawn last, from the same stream: the VMs above are those of a trace without it.
  for (const v of [...initial, ...arrivals]) v.consent = rand();
  const offered = (f: number) => (initial.reduce((s, v) => s + v.cores * Math.min(v.seconds * f, horizon), 0) +
    arrivals.reduce((s, v) => s + v.cores * Math.min(v.seconds * f, horizon - v.at), 0)) / (o.totalCores * horizon);
  let lo = 0.25, hi = 4;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (offered(mid) < o.utilisation) lo = mid; else hi = mid;
  }
  const f = (lo + hi) / 2;
  return { initial: initial.map((v) => ({ ...v, seconds: v.seconds * f })), arrivals: arrivals.map((v) => ({ ...v, seconds: v.seconds * f })), lifetimeScale: f, offered: offered(f) };
}
