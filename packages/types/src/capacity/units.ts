/**
 * Billing units (REFERENCE.md "Billing"), with mru/sru/hru in GiB:
 *   SU = hru/1200 + sru/200
 *   CU = min(max(mru/4, cru/2), max(mru/8, cru), max(mru/2, cru/4))
 *   IPU = public IPv4 count
 *
 * Two forms: exact scaled integers (bigint) — what the chain computes, so both sides agree to the
 * unit — and floating-point convenience values for display.
 *   cuScaled = CU * 8 GiB  (= CU * 2^33; every term is then an integer number of bytes)
 *   suScaled = SU * 1200 GiB (= hru + 6 * sru, in bytes)
 *
 * @example
 * ```ts
 * computeUnits({ cru: 2, mru: 4 * GiB });          // 1
 * storageUnits({ sru: 200 * GiB, hru: 0 });        // 1
 * cuScaled({ cru: 2, mru: 4 * GiB }) === CU_SCALE; // true
 * ```
 */
import { GiB, type Capacity } from "./capacity.ts";

/** The factor between CU and cuScaled: 8 GiB. */
export const CU_SCALE = 8n * BigInt(GiB);
/** The factor between SU and suScaled: 1200 GiB. */
export const SU_SCALE = 1200n * BigInt(GiB);

const G = BigInt(GiB);
const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** CU * 8 GiB, exact. cru in cores, mru in bytes. */
export function cuScaled(c: Pick<Capacity, "cru" | "mru">): bigint {
  const m = BigInt(c.mru);
  const cpu = BigInt(c.cru);
  // Multiply each term of the formula by 8 GiB: mru/4 -> 2m, cru/2 -> 4*cpu*G, mru/8 -> m,
  // cru -> 8*cpu*G, mru/2 -> 4m, cru/4 -> 2*cpu*G.
  return min(min(max(2n * m, 4n * cpu * G), max(m, 8n * cpu * G)), max(4n * m, 2n * cpu * G));
}

/** SU * 1200 GiB, exact. sru and hru in bytes. */
export function suScaled(c: Pick<Capacity, "sru" | "hru">): bigint {
  return BigInt(c.hru) + 6n * BigInt(c.sru);
}

/** Compute units as a number. */
export function computeUnits(c: Pick<Capacity, "cru" | "mru">): number {
  return Number(cuScaled(c)) / Number(CU_SCALE);
}

/** Storage units as a number. */
export function storageUnits(c: Pick<Capacity, "sru" | "hru">): number {
  return Number(suScaled(c)) / Number(SU_SCALE);
}

/** IP units: one per public IPv4. */
export function ipUnits(c: Pick<Capacity, "ipv4u">): number {
  return c.ipv4u;
}

/**
 * Cost in "units USD" (1 USD = 10^7) of holding `c` for `seconds`, at per-hour prices,
 * rounded down — the same integer formula the chain uses:
 *   (su_price * suScaled / SU_SCALE + cu_price * cuScaled / CU_SCALE + ipu_price * ipv4u) * seconds / 3600
 * computed as one fraction so rounding happens once.
 *
 * @example
 * ```ts
 * costUnits({ cru: 2, mru: 4 * GiB, sru: 0, hru: 0, ipv4u: 0 }, 3600, DEV_PRICES); // 100000n (1 CU-hour)
 * ```
 */
export function costUnits(c: Capacity, seconds: number, prices: Prices): bigint {
  const s = BigInt(seconds);
  const num =
    BigInt(prices.su) * suScaled(c) * CU_SCALE +
    BigInt(prices.cu) * cuScaled(c) * SU_SCALE +
    BigInt(prices.ipu) * BigInt(c.ipv4u) * CU_SCALE * SU_SCALE;
  return (num * s) / (3600n * CU_SCALE * SU_SCALE);
}

/** Per-hour prices in units USD (1 USD = 10^7 units). */
export interface Prices {
  su: number;
  cu: number;
  ipu: number;
  /** per GB of network traffic */
  nu: number;
  /** per hour of a name contract */
  uniqueName: number;
}

/** Genesis dev prices of the reference chain (REFERENCE.md). */
export const DEV_PRICES: Readonly<Prices> = Object.freeze({ su: 50_000, cu: 100_000, ipu: 40_000, nu: 15_000, uniqueName: 2_500 });
