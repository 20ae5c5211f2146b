/**
 * Explicit limits on an flist's listing, checked before the listing is used (a listing comes from
 * a tenant and is hostile until validated). Counts are read with single SQL aggregates (linear in
 * the table), so an absurd listing is refused before anything is loaded into memory.
 *
 * @example
 * ```ts
 * const r = FlistReader.open("app.fl", { limits: { maxEntries: 100_000 } });
 * // FlistFormatError "app.fl: listing has 250000 entries, more than the limit of 100000"
 * ```
 */
export interface ListingLimits {
  /** Size of the .fl file itself, bytes. Default 512 MiB. */
  maxListingBytes: number;
  /** Rows of the inode table (files, dirs, links, ...). Default 2,000,000. */
  maxEntries: number;
  /** Rows of the block table. Default 4,000,000 (2 TiB of 512 KiB blocks). */
  maxBlocks: number;
  /** Directory depth below the root. Default 256. */
  maxDepth: number;
  /** Bytes of one entry name (Linux NAME_MAX). Default 255. */
  maxNameBytes: number;
  /** Bytes of a symlink target (Linux PATH_MAX). Default 4096. */
  maxTargetBytes: number;
  /** Sum of the sizes of regular files, bytes. Default 4 TiB. */
  maxTotalBytes: number;
  /** Rows of zgrid_xattr. Default 1,000,000. */
  maxXattrs: number;
  /** Rows of the tag table. Default 1,000. */
  maxTags: number;
  /** Rows of the route table (one store each). Default 256. */
  maxRoutes: number;
}

export const DEFAULT_LISTING_LIMITS: Readonly<ListingLimits> = Object.freeze({
  maxListingBytes: 512 * 2 ** 20,
  maxEntries: 2_000_000,
  maxBlocks: 4_000_000,
  maxDepth: 256,
  maxNameBytes: 255,
  maxTargetBytes: 4096,
  maxTotalBytes: 4 * 2 ** 40,
  maxXattrs: 1_000_000,
  maxTags: 1_000,
  maxRoutes: 256,
});

/** Defaults overridden by `partial`. */
export function listingLimits(partial: Partial<ListingLimits> = {}): ListingLimits {
  return { ...DEFAULT_LISTING_LIMITS, ...partial };
}
