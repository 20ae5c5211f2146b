/**
 * Caches twin lookups in front of a TwinDirectory (a chain read per message would be far too slow).
 * Entries expire after `ttlMs` and are dropped at once on the directory's twin-updated event.
 * Lookups of the same twin in flight are shared; misses are cached briefly too, so a flood of
 * messages from an unknown twin does not become a flood of chain reads.
 *
 * @example
 * ```ts
 * const twins = new TwinCache(directory, { ttlMs: 60_000 });
 * const record = await twins.get(7);
 * twins.close();
 * ```
 */
import type { TwinDirectory, TwinRecord } from "./twin-directory.ts";

interface Entry {
  value: Promise<TwinRecord | undefined>;
  expires: number;
}

export class TwinCache {
  readonly #directory: TwinDirectory;
  readonly #ttlMs: number;
  readonly #missTtlMs: number;
  readonly #entries = new Map<number, Entry>();
  readonly #unsubscribe: (() => void) | undefined;

  constructor(directory: TwinDirectory, options: { ttlMs?: number; missTtlMs?: number } = {}) {
    this.#directory = directory;
    this.#ttlMs = options.ttlMs ?? 5 * 60_000;
    this.#missTtlMs = options.missTtlMs ?? 2_000;
    this.#unsubscribe = directory.onTwinUpdated?.((twinId) => this.invalidate(twinId));
  }

  /** The twin's record (cached), or undefined when the twin does not exist. */
  get(twinId: number): Promise<TwinRecord | undefined> {
    const now = Date.now();
    const hit = this.#entries.get(twinId);
    if (hit && hit.expires > now) return hit.value;
    const entry: Entry = { value: this.#load(twinId), expires: now + this.#ttlMs };
    this.#entries.set(twinId, entry);
    void entry.value.then(
      (record) => { if (!record) entry.expires = Date.now() + this.#missTtlMs; },
      () => { if (this.#entries.get(twinId) === entry) this.#entries.delete(twinId); },
    );
    return entry.value;
  }

  /** Forgets a twin so the next lookup reads the directory again. */
  invalidate(twinId: number): void {
    this.#entries.delete(twinId);
  }

  close(): void {
    this.#unsubscribe?.();
    this.#entries.clear();
  }

  async #load(twinId: number): Promise<TwinRecord | undefined> {
    return this.#directory.getTwin(twinId);
  }
}
