/**
 * Per-twin token buckets: each source twin may send `ratePerSecond` requests on average with
 * bursts up to `burst`. Idle buckets are dropped so the map stays small.
 *
 * @example
 * ```ts
 * const limiter = new TwinRateLimiter({ ratePerSecond: 100, burst: 200 });
 * if (!limiter.take(twinId)) reject("rate limited");
 * ```
 */
export interface RateLimit {
  /** Sustained requests per second per twin. */
  ratePerSecond: number;
  /** Largest burst per twin. */
  burst: number;
}

interface Bucket {
  tokens: number;
  updated: number;
}

export class TwinRateLimiter {
  readonly #limit: RateLimit;
  readonly #buckets = new Map<number, Bucket>();
  #nextSweep = 0;

  constructor(limit: RateLimit) {
    this.#limit = limit;
  }

  /** Takes one token for the twin; false when its bucket is empty. */
  take(twinId: number, now: number = Date.now()): boolean {
    if (now >= this.#nextSweep) this.#sweep(now);
    const bucket = this.#buckets.get(twinId) ?? { tokens: this.#limit.burst, updated: now };
    bucket.tokens = Math.min(this.#limit.burst, bucket.tokens + ((now - bucket.updated) / 1000) * this.#limit.ratePerSecond);
    bucket.updated = now;
    this.#buckets.set(twinId, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /**
   * Reserves the twin's next token: 0 when one is there, else the milliseconds until it will be
   * (the caller waits that long, then serves the request: a twin over its rate is slowed down to
   * it, not answered faster with refusals it can retry at once). -1, reserving nothing, when the
   * wait would pass `maxWaitMs`.
   */
  reserve(twinId: number, maxWaitMs: number, now: number = Date.now()): number {
    if (now >= this.#nextSweep) this.#sweep(now);
    const rate = Math.max(this.#limit.ratePerSecond, 1e-9);
    const bucket = this.#buckets.get(twinId) ?? { tokens: this.#limit.burst, updated: now };
    bucket.tokens = Math.min(this.#limit.burst, bucket.tokens + ((now - bucket.updated) / 1000) * rate);
    bucket.updated = now;
    this.#buckets.set(twinId, bucket);
    const wait = bucket.tokens >= 1 ? 0 : ((1 - bucket.tokens) / rate) * 1000;
    if (wait > maxWaitMs) return -1;
    bucket.tokens -= 1;
    return wait;
  }

  #sweep(now: number): void {
    // A bucket idle long enough to be full again (debts of reservations included) carries no information.
    const rate = Math.max(this.#limit.ratePerSecond, 1e-9);
    for (const [twin, bucket] of this.#buckets) if (bucket.tokens + ((now - bucket.updated) / 1000) * rate >= this.#limit.burst) this.#buckets.delete(twin);
    this.#nextSweep = now + 10_000;
  }
}
