/**
 * The dev pricing policy (REFERENCE.md genesis prices) and the exact capacity/price math the
 * contracts use, in TypeScript, so clients can predict costs to the unit.
 *
 * Prices are "units USD" (1 USD = 10^7 units) per hour; resource sizes are bytes.
 */
export interface Resources {
  cru: bigint;
  mru: bigint;
  sru: bigint;
  hru: bigint;
}

export interface PricingPolicy {
  id: number;
  name: string;
  su: bigint;
  cu: bigint;
  nu: bigint;
  ipu: bigint;
  uniqueName: bigint;
}

export const DEV_PRICING_POLICY: PricingPolicy = {
  id: 0, name: "default", su: 50_000n, cu: 100_000n, nu: 15_000n, ipu: 40_000n, uniqueName: 2_500n,
};

export const GIB = 1n << 30n;
/** Rates are units per second scaled by DEN (see GridContracts.sol). */
export const RATE_DEN = 2n * 3600n * 9600n * GIB;
/** Owed amounts are scaled by SCALE = DEN * 100 (the 100 carries the discount percentage). */
export const OWED_SCALE = RATE_DEN * 100n;
export const MONTH_SECONDS = 30n * 24n * 3600n;

const max = (a: bigint, b: bigint) => (a > b ? a : b);
const min = (a: bigint, b: bigint) => (a < b ? a : b);

/** SU * 1200 GiB = hru + 6*sru (exact). */
export function suNumerator(r: Resources): bigint {
  return r.hru + 6n * r.sru;
}

/** CU * 8 GiB = min(max(2*mru, 4*cru*GiB), max(mru, 8*cru*GiB), max(4*mru, 2*cru*GiB)) (exact). */
export function cuNumerator(r: Resources): bigint {
  const c = r.cru * GIB;
  return min(max(2n * r.mru, 4n * c), min(max(r.mru, 8n * c), max(4n * r.mru, 2n * c)));
}

/** SU and CU in units of 1e-9, rounded down (what `Registry.capacityUnits` returns). */
export function capacityUnitsNano(r: Resources): { suNano: bigint; cuNano: bigint } {
  return { suNano: (suNumerator(r) * 1_000_000_000n) / (1200n * GIB), cuNano: (cuNumerator(r) * 1_000_000_000n) / (8n * GIB) };
}

/**
 * Cost rate of a node contract, units USD per second scaled by RATE_DEN.
 *
 * @example
 * ```ts
 * const rate = nodeContractRate(DEV_PRICING_POLICY, { cru: 2n, mru: 4n * GIB, sru: 50n * GIB, hru: 0n }, 1);
 * const unitsPerHour = (rate * 3600n) / RATE_DEN;
 * ```
 */
export function nodeContractRate(p: PricingPolicy, used: Resources, publicIps: number, onRentedNode = false): bigint {
  let rate = p.ipu * BigInt(publicIps) * 2n * 9600n * GIB;
  if (!onRentedNode) rate += p.su * suNumerator(used) * 16n + p.cu * cuNumerator(used) * 2400n;
  return rate;
}

/** Cost rate of renting a whole node (50% of its full price). */
export function rentContractRate(p: PricingPolicy, node: Resources): bigint {
  return p.su * suNumerator(node) * 8n + p.cu * cuNumerator(node) * 1200n;
}

/** Cost rate of a name contract. */
export function nameContractRate(p: PricingPolicy): bigint {
  return p.uniqueName * 2n * 9600n * GIB;
}

/** Percentage paid given the balance (in units USD): 100, 80, 70, 60 or 40 (REFERENCE.md discounts). */
export function discountPct(balanceUnits: bigint, rate: bigint): bigint {
  if (rate === 0n) return 100n;
  const balance10 = balanceUnits * RATE_DEN * 10n;
  const monthly = rate * MONTH_SECONDS;
  if (balance10 >= monthly * 180n) return 40n;
  if (balance10 >= monthly * 60n) return 60n;
  if (balance10 >= monthly * 30n) return 70n;
  if (balance10 >= monthly * 15n) return 80n;
  return 100n;
}
