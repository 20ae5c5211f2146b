/**
 * A block store keeps encoded blocks by id. Stores do not decode: callers verify with
 * `decodeBlock`, so a lying store is always caught.
 *
 * @example
 * ```ts
 * const store: BlockStore = new DirStore("/var/cache/blocks");
 * await store.set(id, data);
 * const back = await store.get(id);
 * ```
 */
export interface BlockStore {
  /** The store's URL (dir:///path, http://host/blocks), as written into route tables. */
  readonly url: string;
  /** Returns the stored bytes; throws BlockNotFoundError when absent, StoreError on failure. */
  get(id: Uint8Array): Promise<Uint8Array>;
  /** Stores bytes under id. Throws StoreError for read-only stores. */
  set(id: Uint8Array, data: Uint8Array): Promise<void>;
  /** True when the store has the block (lets pack skip uploads). */
  has(id: Uint8Array): Promise<boolean>;
  /**
   * Local files the block may be in, in order (a dir:// store's layouts). A reader may read them
   * itself (verify reads them in its worker threads) and must fall back to `get()` when none can be
   * read. Absent (or empty) for stores that are not local directories.
   */
  localPaths?(id: Uint8Array): string[];
}

/** rfs layout of a block inside a store: `<first byte hex>/<id hex>`. */
export function blockPath(id: Uint8Array): string {
  const hex = Buffer.from(id).toString("hex");
  return `${hex.slice(0, 2)}/${hex}`;
}
