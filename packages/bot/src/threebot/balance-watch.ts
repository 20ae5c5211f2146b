/**
 * The 3bot's balance warning: the twin's balance against what its live contracts burn per hour.
 * When the runway drops below `warnHours` the bot logs a `balance` event (at most once an hour
 * while it stays low) — before the chain puts the contracts in their grace period — so the owner
 * tops up in time. With `topUp` set, the bot also draws from a funder's allowance (top-up.ts).
 *
 * @example
 * ```ts
 * runway(50_000_000n, [0.01, 0.02]); // { burnPerHour: 300000, hoursLeft: 166.66… }
 * ```
 */
import type { ContractInfo } from "@zgrid/client";
import type { BotEnv } from "./observe.ts";

export interface Runway {
  /** Token base units (7 decimals) burnt per hour by the live contracts. */
  burnPerHour: number;
  /** Hours until the balance is spent at that rate (Infinity when nothing burns). */
  hoursLeft: number;
}

/** Runway of `balance` (base units) at the contracts' hourly costs (USD/h; 1 USD = 10^7 units). */
export function runway(balance: bigint, costsPerHourUsd: number[]): Runway {
  const burnPerHour = Math.round(costsPerHourUsd.reduce((a, c) => a + (Number.isFinite(c) && c > 0 ? c : 0), 0) * 1e7);
  return { burnPerHour, hoursLeft: burnPerHour > 0 ? Number(balance) / burnPerHour : Infinity };
}

/** Checks the runway (throttled by the caller) and logs a warning below `warnHours`. */
export async function watchBalance(env: Pick<BotEnv, "grid" | "log" | "now">, contracts: ContractInfo[], state: { lastWarnAt: number }, warnHours: number): Promise<Runway & { balance: bigint }> {
  const { balance } = await env.grid.twin();
  const r = runway(balance, contracts.filter((c) => c.state !== "deleted").map((c) => c.costPerHourUsd));
  if (r.hoursLeft < warnHours && env.now() - state.lastWarnAt >= 3_600_000) {
    state.lastWarnAt = env.now();
    env.log("", "balance", `balance ${(Number(balance) / 1e7).toFixed(2)} lasts ~${r.hoursLeft.toFixed(1)} h at the current burn of ${(r.burnPerHour / 1e7).toFixed(4)}/h (warning below ${warnHours} h): top up before the contracts go into their grace period`);
  }
  return { ...r, balance };
}
