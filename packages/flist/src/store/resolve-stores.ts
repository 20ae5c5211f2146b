/**
 * Picks the stores to read an flist's blocks from: explicit specs when given, else the flist's
 * own route table.
 *
 * @example
 * ```ts
 * const store = resolveStores(reader, ["http://hub/blocks"]);
 * ```
 */
import { StoreError } from "../errors/flist-errors.ts";
import type { FlistReader } from "../format/flist-reader.ts";
import type { BlockStore } from "./block-store.ts";
import type { HttpStoreOptions } from "./http-store.ts";
import { openStores, storesFromRoutes } from "./router-store.ts";

export function resolveStores(reader: FlistReader, stores?: BlockStore | string[], http?: HttpStoreOptions): BlockStore {
  if (stores && !Array.isArray(stores)) return stores;
  if (stores && stores.length > 0) return openStores(stores, { http });
  const routes = reader.routes();
  if (routes.length === 0) throw new StoreError(`${reader.path} has no route table`, { hint: "pass --store URL" });
  return storesFromRoutes(routes, undefined, http);
}
