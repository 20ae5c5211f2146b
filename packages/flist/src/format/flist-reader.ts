/**
 * Reads a `.fl` file (rfs or zgrid). Opening checks that it is an intact SQLite database with the
 * rfs tables, so a truncated or corrupt file fails here with FlistFormatError, not later.
 *
 * @example
 * ```ts
 * const fl = FlistReader.open("alpine.fl");
 * for (const { path, inode } of fl.walk()) console.log(path.toString(), inode.size);
 * fl.close();
 * ```
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { FlistFormatError } from "../errors/flist-errors.ts";
import { buildListingIndex, childrenOf, findChild, loadBlocks, loadXattrs, rowBytes, rowNum, type ListingIndex } from "./listing-index.ts";
import { listingLimits, type ListingLimits } from "./listing-limits.ts";
import { DEFAULT_BLOCK_SIZE, S_IFDIR, S_IFREG, TAGS, fileType, type FlistBlock, type FlistInode, type FlistRoute, type FlistXattr } from "./schema.ts";

export { checkName } from "./listing-index.ts";

type Row = Record<string, unknown>;

const SQLITE_MAGIC = Buffer.from("SQLite format 3\0");
/** Largest block size accepted from a tag (guards against absurd values). */
const MAX_BLOCK_SIZE = 64 * 1024 * 1024;
const SLASH = Buffer.from("/");

export interface WalkEntry {
  /** Absolute path inside the flist as raw bytes, "/" for the root. */
  path: Buffer;
  inode: FlistInode;
}

export interface FlistOpenOptions {
  /** Limits checked at open (counts) and while indexing (depth, names). Defaults: DEFAULT_LISTING_LIMITS. */
  limits?: Partial<ListingLimits>;
}

function wrap<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (cause) {
    if (cause instanceof FlistFormatError) throw cause;
    throw new FlistFormatError(`${where}: unreadable listing (${(cause as Error).message})`, { cause, details: { path: where } });
  }
}

export class FlistReader {
  readonly path: string;
  readonly limits: ListingLimits;
  readonly #db: DatabaseSync;
  readonly #hasXattrs: boolean;
  #index: ListingIndex | undefined;
  #blocks: Map<number, FlistBlock[]> | undefined;
  #xattrs: Map<number, FlistXattr[]> | undefined;
  #blockSize: number | undefined;

  private constructor(path: string, db: DatabaseSync, limits: ListingLimits) {
    this.path = path;
    this.#db = db;
    this.limits = limits;
    const tables = new Set((db.prepare("select name from sqlite_master where type = 'table'").all() as Row[]).map((r) => String(r.name)));
    for (const t of ["inode", "extra", "block", "tag", "route"]) {
      if (!tables.has(t)) throw new FlistFormatError(`${path}: not an flist (table ${t} missing)`, { details: { path, table: t } });
    }
    this.#hasXattrs = tables.has("zgrid_xattr");
    // Limits on counts, checked with one aggregate each before anything is loaded.
    const count = (sql: string): number => rowNum((db.prepare(sql).get() as Row).n);
    const check = (what: string, n: number, max: number, hint: string): void => {
      if (n > max) throw new FlistFormatError(`${path}: listing has ${n} ${what}, more than the limit of ${max}`, { details: { path, [what]: n, limit: max }, hint });
    };
    check("entries", count("select count(*) as n from inode"), limits.maxEntries, "split the image or raise limits.maxEntries");
    check("blocks", count("select count(*) as n from block"), limits.maxBlocks, "raise limits.maxBlocks for very large images");
    check("bytes", count(`select coalesce(sum(size), 0) as n from inode where (mode & 61440) = ${S_IFREG}`), limits.maxTotalBytes, "raise limits.maxTotalBytes");
    check("tags", count("select count(*) as n from tag"), limits.maxTags, "an flist needs a handful of tags");
    check("routes", count("select count(*) as n from route"), limits.maxRoutes, "an flist needs a handful of routes");
    if (this.#hasXattrs) check("xattrs", count("select count(*) as n from zgrid_xattr"), limits.maxXattrs, "raise limits.maxXattrs");
  }

  /** Opens and checks a .fl file. Throws FlistFormatError when it is missing, truncated, corrupt or over a limit. */
  static open(path: string, options: FlistOpenOptions = {}): FlistReader {
    const limits = listingLimits(options.limits);
    let size: number;
    try {
      size = statSync(path).size;
    } catch (cause) {
      throw new FlistFormatError(`${path}: cannot read the flist file`, { details: { path }, cause, hint: "check the path" });
    }
    if (size > limits.maxListingBytes) {
      throw new FlistFormatError(`${path}: listing is ${size} bytes, more than the limit of ${limits.maxListingBytes}`, { details: { path, size, limit: limits.maxListingBytes } });
    }
    const head = Buffer.alloc(100);
    const fd = openSync(path, "r");
    try { readSync(fd, head, 0, 100, 0); } finally { closeSync(fd); }
    if (!head.subarray(0, 16).equals(SQLITE_MAGIC)) throw new FlistFormatError(`${path}: not an flist (not a SQLite file)`, { details: { path } });
    // The header records the page count: a shorter file was truncated.
    const pageSize = head.readUInt16BE(16) === 1 ? 65536 : head.readUInt16BE(16);
    const pages = head.readUInt32BE(28);
    if (pages > 0 && size < pageSize * pages) {
      throw new FlistFormatError(`${path}: flist is truncated (${size} of ${pageSize * pages} bytes)`, { details: { path, size, expected: pageSize * pages } });
    }
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(path, { readOnly: true });
      const check = db.prepare("PRAGMA quick_check").all() as Row[];
      const first = check[0] ? String(Object.values(check[0])[0]) : "no result";
      if (first !== "ok") throw new Error(first);
      return new FlistReader(path, db, limits);
    } catch (cause) {
      db?.close();
      if (cause instanceof FlistFormatError) throw cause;
      throw new FlistFormatError(`${path}: flist is corrupt (${(cause as Error).message})`, { details: { path }, cause });
    }
  }

  /** The validated index (built once, linear time). */
  index(): ListingIndex {
    this.#index ??= wrap(this.path, () => buildListingIndex(this.#db, this.path, this.limits));
    return this.#index;
  }

  inode(ino: number): FlistInode | undefined {
    return this.index().byIno.get(ino);
  }

  root(): FlistInode {
    return this.index().root;
  }

  /** Children of a directory, sorted by name bytes (the canonical order). */
  children(ino: number): FlistInode[] {
    return childrenOf(this.index(), ino);
  }

  lookup(parent: number, name: Buffer): FlistInode | undefined {
    return findChild(this.index(), parent, name);
  }

  blocks(ino: number): FlistBlock[] {
    this.#blocks ??= wrap(this.path, () => loadBlocks(this.#db, this.path));
    return this.#blocks.get(ino) ?? [];
  }

  xattrs(ino: number): FlistXattr[] {
    if (!this.#hasXattrs) return [];
    this.#xattrs ??= wrap(this.path, () => loadXattrs(this.#db));
    return [...(this.#xattrs.get(ino) ?? [])];
  }

  tags(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const r of this.#db.prepare("select key, value from tag order by key").all() as Row[]) out[String(r.key)] = String(r.value);
    return out;
  }

  tag(key: string): string | undefined {
    const r = this.#db.prepare("select value from tag where key = ?").get(key) as Row | undefined;
    return r ? String(r.value) : undefined;
  }

  routes(): FlistRoute[] {
    return (this.#db.prepare("select start, end, url from route order by rowid").all() as Row[]).map((r) => ({ start: rowNum(r.start), end: rowNum(r.end), url: String(r.url) }));
  }

  /** Block size from the `block-size` tag, else rfs's 512 KiB (read once: checkSize runs per file). */
  blockSize(): number {
    if (this.#blockSize !== undefined) return this.#blockSize;
    const raw = this.tag(TAGS.blockSize);
    if (raw === undefined) return (this.#blockSize = DEFAULT_BLOCK_SIZE);
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 4096 || n > MAX_BLOCK_SIZE) throw new FlistFormatError(`${this.path}: absurd block-size tag ${raw}`, { details: { blockSize: raw } });
    return (this.#blockSize = n);
  }

  /** Distinct blocks of the whole flist. */
  allBlocks(): FlistBlock[] {
    return (this.#db.prepare("select distinct id, key from block").all() as Row[]).map((r) => ({ id: rowBytes(r.id), key: rowBytes(r.key) }));
  }

  /** Every entry, depth-first in canonical (sorted) order, root first. The listing is validated first. */
  *walk(): Generator<WalkEntry> {
    const index = this.index();
    const stack: WalkEntry[] = [{ path: SLASH, inode: index.root }];
    while (stack.length > 0) {
      const entry = stack.pop()!;
      yield entry;
      if (fileType(entry.inode.mode) !== S_IFDIR) continue;
      const kids = childrenOf(index, entry.inode.ino);
      for (let i = kids.length - 1; i >= 0; i--) {
        const kid = kids[i]!;
        const path = entry.path.length === 1 ? Buffer.concat([SLASH, kid.name]) : Buffer.concat([entry.path, SLASH, kid.name]);
        stack.push({ path, inode: kid });
      }
    }
  }

  /** Checks that a file's declared size agrees with its blocks (rejects absurd sizes). */
  checkSize(inode: FlistInode, blocks: FlistBlock[]): void {
    const bs = this.blockSize();
    const min = blocks.length === 0 ? 0 : (blocks.length - 1) * bs + 1;
    const max = blocks.length * bs;
    if (inode.size < min || inode.size > max) {
      throw new FlistFormatError(`${this.path}: inode ${inode.ino} declares ${inode.size} bytes but has ${blocks.length} blocks of ${bs}`, {
        details: { ino: inode.ino, size: inode.size, blocks: blocks.length, blockSize: bs },
      });
    }
  }

  close(): void {
    this.#db.close();
  }
}
