/**
 * Counters and latency histograms of one bus: requests sent and served, errors by code, and
 * latency in fixed buckets (ms) so snapshots can be exported to Prometheus as-is.
 *
 * @example
 * ```ts
 * const m = bus.metrics();
 * m.outbound.requests; m.outbound.errors["BUS_TIMEOUT"]; m.outbound.latencyMs.p50;
 * ```
 */

import type { GuardSnapshot } from "../server/inbound-guard.ts";

const EMPTY_GUARD: GuardSnapshot = { unprovenConnections: 0, unprovenBufferedBytes: 0, provenBufferedBytes: 0, refusedConnections: 0, refusedStreams: 0, resetStreams: 0, closedIdle: 0 };

/** Upper bounds (ms) of the latency histogram buckets; the last bucket is +Inf. */
export const LATENCY_BUCKETS_MS = [0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000] as const;

export interface LatencySnapshot {
  count: number;
  sumMs: number;
  /** Cumulative counts per bucket upper bound ("+Inf" last). */
  buckets: Array<{ le: number | "+Inf"; count: number }>;
  /** Estimates from the buckets (upper bound of the bucket holding the quantile). */
  p50: number;
  p99: number;
}

export interface DirectionSnapshot {
  requests: number;
  errors: Record<string, number>;
  latencyMs: LatencySnapshot;
}

export interface BusMetricsSnapshot {
  /** Requests this peer sent. */
  outbound: DirectionSnapshot;
  /** Requests this peer received (including refused ones). */
  inbound: DirectionSnapshot;
  /** Open bus streams to other peers. */
  channels: number;
  /** What unproven and proven peers make this peer hold, and what was refused (server/inbound-guard). */
  guard: GuardSnapshot;
}

class LatencyHistogram {
  readonly #counts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  #count = 0;
  #sum = 0;

  observe(ms: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && ms > LATENCY_BUCKETS_MS[i]!) i++;
    this.#counts[i]!++;
    this.#count++;
    this.#sum += ms;
  }

  snapshot(): LatencySnapshot {
    let cumulative = 0;
    const buckets = this.#counts.map((n, i) => {
      cumulative += n;
      return { le: i < LATENCY_BUCKETS_MS.length ? LATENCY_BUCKETS_MS[i]! : ("+Inf" as const), count: cumulative };
    });
    const quantile = (q: number): number => {
      const target = q * this.#count;
      const hit = buckets.find((b) => b.count >= target && b.count > 0);
      return hit === undefined ? 0 : hit.le === "+Inf" ? Infinity : hit.le;
    };
    return { count: this.#count, sumMs: this.#sum, buckets, p50: quantile(0.5), p99: quantile(0.99) };
  }
}

class Direction {
  requests = 0;
  readonly errors = new Map<string, number>();
  readonly latency = new LatencyHistogram();

  error(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  snapshot(): DirectionSnapshot {
    return { requests: this.requests, errors: Object.fromEntries(this.errors), latencyMs: this.latency.snapshot() };
  }
}

export class BusMetrics {
  readonly outbound = new Direction();
  readonly inbound = new Direction();

  snapshot(channels: number, guard: GuardSnapshot = EMPTY_GUARD): BusMetricsSnapshot {
    return { outbound: this.outbound.snapshot(), inbound: this.inbound.snapshot(), channels, guard };
  }
}
