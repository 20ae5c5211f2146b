/**
 * Limits of a bus peer. Defaults suit management traffic: deployments are small JSON documents,
 * requests live seconds to minutes, a twin rarely needs more than a few hundred calls a second.
 *
 * @example
 * ```ts
 * createBus({ …, limits: { maxMessageBytes: 256 * 1024, rate: { ratePerSecond: 20, burst: 40 } } });
 * ```
 */
import type { RateLimit } from "./twin-rate-limiter.ts";

export interface BusLimits {
  /** Largest request envelope or response body, in bytes. */
  maxMessageBytes: number;
  /** Longest accepted validity window (expiration - timestamp), in ms; also bounds the uid cache. */
  maxTtlMs: number;
  /** How far in the future a request's timestamp may be (clock skew), in ms. */
  clockSkewMs: number;
  /** Requests per source twin. */
  rate: RateLimit;
  /** Requests being handled at once per inbound stream. */
  maxInFlightPerPeer: number;
}

export const DEFAULT_BUS_LIMITS: BusLimits = {
  maxMessageBytes: 1024 * 1024,
  maxTtlMs: 5 * 60_000,
  clockSkewMs: 30_000,
  rate: { ratePerSecond: 1_000, burst: 2_000 },
  maxInFlightPerPeer: 2_048,
};

/** Fills the unset limits with defaults. */
export function resolveBusLimits(limits: Partial<Omit<BusLimits, "rate">> & { rate?: Partial<RateLimit> } = {}): BusLimits {
  return {
    maxMessageBytes: limits.maxMessageBytes ?? DEFAULT_BUS_LIMITS.maxMessageBytes,
    maxTtlMs: limits.maxTtlMs ?? DEFAULT_BUS_LIMITS.maxTtlMs,
    clockSkewMs: limits.clockSkewMs ?? DEFAULT_BUS_LIMITS.clockSkewMs,
    rate: { ...DEFAULT_BUS_LIMITS.rate, ...limits.rate },
    maxInFlightPerPeer: limits.maxInFlightPerPeer ?? DEFAULT_BUS_LIMITS.maxInFlightPerPeer,
  };
}
