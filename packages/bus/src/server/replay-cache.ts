/**
 * Remembers request uids until their envelope expires, so a captured request cannot be executed
 * twice. Receivers refuse envelopes whose validity window exceeds the cache's reach (maxTtl), so
 * an entry is never needed after its expiration and can be swept.
 *
 * @example
 * ```ts
 * const seen = new ReplayCache();
 * seen.add("7:ab12…", expiration); // true: first time
 * seen.add("7:ab12…", expiration); // false: replay
 * ```
 */
export class ReplayCache {
  readonly #entries = new Map<string, number>();
  #nextSweep = 0;

  /** Records a uid; false when it was already recorded and has not expired. */
  add(key: string, expiration: number, now: number = Date.now()): boolean {
    if (now >= this.#nextSweep) this.sweep(now);
    const known = this.#entries.get(key);
    if (known !== undefined && known >= now) return false;
    this.#entries.set(key, expiration);
    return true;
  }

  /** Forgets a uid (the request was refused before running, so a resend may run). */
  delete(key: string): void {
    this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Drops expired entries (called on the way; cost is amortised over a second of traffic). */
  sweep(now: number = Date.now()): void {
    for (const [key, expiration] of this.#entries) if (expiration < now) this.#entries.delete(key);
    this.#nextSweep = now + 1_000;
  }
}
