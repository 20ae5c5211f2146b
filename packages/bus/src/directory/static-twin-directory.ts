/**
 * An in-memory TwinDirectory: for tests and the local grid, where twins are known without a chain.
 * `set` replaces a record and notifies subscribers like a chain twin-updated event would.
 *
 * @example
 * ```ts
 * const directory = new StaticTwinDirectory();
 * directory.set({ id: 1, account: key.address, peerId, addrs: ["/ip4/127.0.0.1/tcp/4001"], relays: [] });
 * await directory.getTwin(1);
 * ```
 */
import type { TwinDirectory, TwinRecord } from "./twin-directory.ts";

export class StaticTwinDirectory implements TwinDirectory {
  readonly #twins = new Map<number, TwinRecord>();
  readonly #listeners = new Set<(twinId: number) => void>();

  constructor(records: TwinRecord[] = []) {
    for (const record of records) this.#twins.set(record.id, structuredClone(record));
  }

  async getTwin(twinId: number): Promise<TwinRecord | undefined> {
    const record = this.#twins.get(twinId);
    return record ? structuredClone(record) : undefined;
  }

  has(twinId: number): boolean {
    return this.#twins.has(twinId);
  }

  /** Adds or replaces a record and tells subscribers. */
  set(record: TwinRecord): void {
    this.#twins.set(record.id, structuredClone(record));
    for (const listener of this.#listeners) listener(record.id);
  }

  /** Removes a record and tells subscribers. */
  delete(twinId: number): void {
    this.#twins.delete(twinId);
    for (const listener of this.#listeners) listener(twinId);
  }

  onTwinUpdated(callback: (twinId: number) => void): () => void {
    this.#listeners.add(callback);
    return () => this.#listeners.delete(callback);
  }
}
