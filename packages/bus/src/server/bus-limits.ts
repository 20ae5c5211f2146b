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
  /** Inbound connections that have not yet sent a valid signed request, in total. */
  maxUnprovenConnections: number;
  /** The same, from one IP address. */
  maxUnprovenConnectionsPerIp: number;
  /** Bus streams a connection may open once proven. */
  maxStreamsPerConnection: number;
  /** Bus streams an unproven connection may open. */
  maxUnprovenStreamsPerConnection: number;
  /** Largest frame an unproven connection may send (bigger ones are refused unbuffered). */
  maxUnprovenFrameBytes: number;
  /** Bytes of unfinished frames all unproven connections together may make this peer hold. */
  maxUnprovenBufferedBytes: number;
  /** Bytes of unfinished frames one proven twin's connections together may make this peer hold. */
  maxBufferedBytesPerTwin: number;
  /** An inbound connection without a valid signed request after this long is closed (ms). */
  unprovenIdleMs: number;
  /** A proven inbound connection with no request for this long is closed (ms; server/proven-connections.ts). */
  provenIdleMs: number;
  /** Proven inbound connections one twin may hold; one more closes its least active one. */
  maxConnectionsPerTwin: number;
  /** Proven inbound connections from one IP; one more closes the least active one from that IP. */
  maxProvenConnectionsPerIp: number;
}

export const DEFAULT_BUS_LIMITS: BusLimits = {
  maxMessageBytes: 1024 * 1024,
  maxTtlMs: 5 * 60_000,
  clockSkewMs: 30_000,
  rate: { ratePerSecond: 1_000, burst: 2_000 },
  maxInFlightPerPeer: 2_048,
  maxUnprovenConnections: 256,
  maxUnprovenConnectionsPerIp: 16,
  maxStreamsPerConnection: 16,
  maxUnprovenStreamsPerConnection: 4,
  maxUnprovenFrameBytes: 64 * 1024,
  maxUnprovenBufferedBytes: 8 * 1024 * 1024,
  maxBufferedBytesPerTwin: 8 * 1024 * 1024,
  unprovenIdleMs: 15_000,
  // Longer than the longest request validity (maxTtlMs): no answer a client still waits for is cut.
  provenIdleMs: 6 * 60_000,
  maxConnectionsPerTwin: 8,
  maxProvenConnectionsPerIp: 64,
};

/** Fills the unset limits with defaults. */
export function resolveBusLimits(limits: Partial<Omit<BusLimits, "rate">> & { rate?: Partial<RateLimit> } = {}): BusLimits {
  return {
    maxMessageBytes: limits.maxMessageBytes ?? DEFAULT_BUS_LIMITS.maxMessageBytes,
    maxTtlMs: limits.maxTtlMs ?? DEFAULT_BUS_LIMITS.maxTtlMs,
    clockSkewMs: limits.clockSkewMs ?? DEFAULT_BUS_LIMITS.clockSkewMs,
    rate: { ...DEFAULT_BUS_LIMITS.rate, ...limits.rate },
    maxInFlightPerPeer: limits.maxInFlightPerPeer ?? DEFAULT_BUS_LIMITS.maxInFlightPerPeer,
    maxUnprovenConnections: limits.maxUnprovenConnections ?? DEFAULT_BUS_LIMITS.maxUnprovenConnections,
    maxUnprovenConnectionsPerIp: limits.maxUnprovenConnectionsPerIp ?? DEFAULT_BUS_LIMITS.maxUnprovenConnectionsPerIp,
    maxStreamsPerConnection: limits.maxStreamsPerConnection ?? DEFAULT_BUS_LIMITS.maxStreamsPerConnection,
    maxUnprovenStreamsPerConnection: limits.maxUnprovenStreamsPerConnection ?? DEFAULT_BUS_LIMITS.maxUnprovenStreamsPerConnection,
    maxUnprovenFrameBytes: limits.maxUnprovenFrameBytes ?? DEFAULT_BUS_LIMITS.maxUnprovenFrameBytes,
    maxUnprovenBufferedBytes: limits.maxUnprovenBufferedBytes ?? DEFAULT_BUS_LIMITS.maxUnprovenBufferedBytes,
    // At least a few whole messages: a twin's large legitimate requests always fit.
    maxBufferedBytesPerTwin: limits.maxBufferedBytesPerTwin ?? Math.max(DEFAULT_BUS_LIMITS.maxBufferedBytesPerTwin, 4 * (limits.maxMessageBytes ?? DEFAULT_BUS_LIMITS.maxMessageBytes)),
    unprovenIdleMs: limits.unprovenIdleMs ?? DEFAULT_BUS_LIMITS.unprovenIdleMs,
    provenIdleMs: limits.provenIdleMs ?? DEFAULT_BUS_LIMITS.provenIdleMs,
    maxConnectionsPerTwin: limits.maxConnectionsPerTwin ?? DEFAULT_BUS_LIMITS.maxConnectionsPerTwin,
    maxProvenConnectionsPerIp: limits.maxProvenConnectionsPerIp ?? DEFAULT_BUS_LIMITS.maxProvenConnectionsPerIp,
  };
}
