/**
 * Serialises work per key (a contract id): a deploy, an update and a cancel of the same
 * deployment never interleave, while different deployments proceed concurrently.
 *
 * @example
 * ```ts
 * const q = new KeyedQueue();
 * await q.run(12, () => provision(d)); // waits for earlier work on contract 12
 * await q.idle();                       // all queued work done (shutdown, tests)
 * ```
 */
export class KeyedQueue {
  private tails = new Map<number | string, Promise<unknown>>();

  run<T>(key: number | string, work: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(work, work);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  /** Resolves when nothing is queued. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }

  get size(): number {
    return this.tails.size;
  }
}
