/**
 * Top-up from an allowance: a funding account (the owner's wallet, a company treasury) approves
 * the bot's twin account on the grid token (ERC-20 `approve`) for what the bot may draw in total;
 * when the twin's runway drops below the warning threshold, the bot moves just enough to reach
 * `targetHours` of runway, never more than `maxPerTopUp` at once, with `transferFrom`. The chain
 * enforces the allowance (the funder can lower it to 0 at any time); the bot only reads it first
 * so an exhausted allowance is a clear event, not a reverted transaction. At most one top-up per
 * `minIntervalMs` (default 10 min): a bad burn estimate cannot drain the allowance in a loop.
 *
 * @example
 * ```ts
 * const moved = await topUpFromAllowance(env, { balance, burnPerHour, hoursLeft }, { from: "0xFunder…", maxPerTopUp: 100_000_000n, warnHours: 72 }, state);
 * ```
 */
import type { Address } from "viem";
import type { Grid } from "@zgrid/client";
import type { Runway } from "./balance-watch.ts";

export interface TopUpOptions {
  /** The funding account that approved the bot's twin account. */
  from: Address;
  /** Most moved in one top-up (base units, 7 decimals). */
  maxPerTopUp: bigint;
  /** Below this runway (hours) the bot tops up. */
  warnHours: number;
  /** The runway a top-up aims for (hours, default 2 × warnHours). */
  targetHours?: number;
  /** Fewest ms between two top-ups (default 600 000). */
  minIntervalMs?: number;
}

export interface TopUpState { lastTopUpAt: number; lastRefusalAt: number }

const units = (v: bigint) => (Number(v) / 1e7).toFixed(2);

/** Returns the base units moved to the twin (0n when none were needed or none could be drawn). */
export async function topUpFromAllowance(
  env: { grid: Pick<Grid, "chain">; log(service: string, kind: string, message: string): void; now(): number },
  r: Runway & { balance: bigint },
  o: TopUpOptions,
  state: TopUpState,
): Promise<bigint> {
  if (r.hoursLeft >= o.warnHours || r.burnPerHour <= 0) return 0n;
  if (env.now() - state.lastTopUpAt < (o.minIntervalMs ?? 600_000)) return 0n;
  const chain = env.grid.chain;
  const me = chain.account;
  if (!me) return 0n;
  const target = BigInt(Math.ceil((o.targetHours ?? 2 * o.warnHours) * r.burnPerHour));
  const need = target - r.balance;
  if (need <= 0n) return 0n;
  const [allowance, funds] = await Promise.all([chain.allowance(o.from, me), chain.balanceOf(o.from)]);
  const amount = [need, o.maxPerTopUp, allowance, funds].reduce((a, b) => (b < a ? b : a));
  if (amount <= 0n) {
    if (env.now() - state.lastRefusalAt >= 3_600_000) {
      state.lastRefusalAt = env.now();
      env.log("", "topup", `cannot top up from ${o.from}: allowance ${units(allowance)}, its balance ${units(funds)} (needed ${units(need)}); the funder must approve the bot's account ${me} again`);
    }
    return 0n;
  }
  state.lastTopUpAt = env.now();
  await chain.transferFrom(o.from, me, amount);
  env.log("", "topup", `topped up ${units(amount)} from ${o.from} (runway was ~${r.hoursLeft.toFixed(1)} h; allowance left ${units(allowance - amount)})`);
  return amount;
}
