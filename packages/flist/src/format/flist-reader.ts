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
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { FlistFormatError } from "../errors/flist-errors.ts";
import { toHex } from "./hash.ts";
import { DEFAULT_BLOCK_SIZE, S_IFDIR, TAGS, fileType, type FlistBlock, type FlistInode, type FlistRoute, type FlistXattr } from "./schema.ts";

type Row = Record<string, unknown>;

const SQLITE_MAGIC = Buffer.from("SQLite format 3\0");
/** Largest block size accepted from a tag (guards against absurd values). */
const MAX_BLOCK_SIZE = 64 * 1024 * 1024;

function bytes(v: unknown): Buffer {
  if (typeof v === "string") return Buffer.from(v, "utf8");
  if (v instanceof Uint8Array) return Buffer.from(v);
  return Buffer.alloc(0);
}

function num(v: unknown): number {
  return typeof v === "bigint" ? Number(v) : typeof v === "number" ? v : 0;
}

export interface WalkEntry {
  /** Absolute path inside the flist as raw bytes, "/" for the root. */
  path: Buffer;
  inode: FlistInode;
}

export class FlistReader {
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #hasZgrid: boolean;
  readonly #stInode: StatementSync;
  readonly #stChildren: StatementSync;
  readonly #stBlocks: StatementSync;
  readonly #stXattr: StatementSync | undefined;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
    const tables = new Set((db.prepare("select name from sqlite_master where type = 'table'").all() as Row[]).map((r) => String(r.name)));
    for (const t of ["inode", "extra", "block", "tag", "route"]) {
      if (!tables.has(t)) throw new FlistFormatError(`${path}: not an flist (table ${t} missing)`, { details: { path, table: t } });
    }
    this.#hasZgrid = tables.has("zgrid_inode") && tables.has("zgrid_xattr");
    const ext = this.#hasZgrid
      ? "z.mtime_nsec as mtime_nsec, z.link as link from inode i left join extra e on i.ino = e.ino left join zgrid_inode z on i.ino = z.ino"
      : "0 as mtime_nsec, null as link from inode i left join extra e on i.ino = e.ino";
    const cols = `i.ino, i.parent, i.name, i.size, i.uid, i.gid, i.mode, i.rdev, i.ctime, i.mtime, e.data as data, ${ext}`;
    this.#stInode = db.prepare(`select ${cols} where i.ino = ?`);
    this.#stChildren = db.prepare(`select ${cols} where i.parent = ? and i.ino != i.parent`);
    this.#stBlocks = db.prepare("select id, key from block where ino = ? order by rowid");
    this.#stXattr = this.#hasZgrid ? db.prepare("select name, value from zgrid_xattr where ino = ? order by rowid") : undefined;
  }

  /** Opens and checks a .fl file. Throws FlistFormatError when it is missing, truncated or corrupt. */
  static open(path: string): FlistReader {
    let size: number;
    try {
      size = statSync(path).size;
    } catch (cause) {
      throw new FlistFormatError(`${path}: cannot read the flist file`, { details: { path }, cause, hint: "check the path" });
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
      return new FlistReader(path, db);
    } catch (cause) {
      db?.close();
      if (cause instanceof FlistFormatError) throw cause;
      throw new FlistFormatError(`${path}: flist is corrupt (${(cause as Error).message})`, { details: { path }, cause });
    }
  }

  #row(r: Row): FlistInode {
    const inode: FlistInode = {
      ino: num(r.ino), parent: num(r.parent), name: bytes(r.name), size: num(r.size), uid: num(r.uid), gid: num(r.gid),
      mode: num(r.mode), rdev: num(r.rdev), ctime: num(r.ctime), mtime: num(r.mtime), mtimeNsec: num(r.mtime_nsec),
    };
    if (r.data !== null && r.data !== undefined) inode.target = bytes(r.data);
    if (r.link !== null && r.link !== undefined) inode.link = num(r.link);
    return inode;
  }

  inode(ino: number): FlistInode | undefined {
    const r = this.#stInode.get(ino) as Row | undefined;
    return r ? this.#row(r) : undefined;
  }

  root(): FlistInode {
    const root = this.inode(1);
    if (!root || fileType(root.mode) !== S_IFDIR) throw new FlistFormatError(`${this.path}: flist has no root directory (ino 1)`, { details: { path: this.path } });
    return root;
  }

  /** Children of a directory, sorted by name bytes (the canonical order). */
  children(ino: number): FlistInode[] {
    const list = (this.#stChildren.all(ino) as Row[]).map((r) => this.#row(r));
    return list.sort((a, b) => Buffer.compare(a.name, b.name));
  }

  lookup(parent: number, name: Buffer): FlistInode | undefined {
    return this.children(parent).find((c) => c.name.equals(name));
  }

  blocks(ino: number): FlistBlock[] {
    return (this.#stBlocks.all(ino) as Row[]).map((r) => {
      const id = bytes(r.id);
      const key = bytes(r.key);
      if (id.length !== 32 || key.length !== 32) throw new FlistFormatError(`${this.path}: block of inode ${ino} has a bad id/key length`, { details: { ino } });
      return { id, key };
    });
  }

  xattrs(ino: number): FlistXattr[] {
    if (!this.#stXattr) return [];
    return (this.#stXattr.all(ino) as Row[]).map((r) => ({ name: bytes(r.name), value: bytes(r.value) }));
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
    return (this.#db.prepare("select start, end, url from route order by rowid").all() as Row[]).map((r) => ({ start: num(r.start), end: num(r.end), url: String(r.url) }));
  }

  /** Block size from the `block-size` tag, else rfs's 512 KiB. */
  blockSize(): number {
    const raw = this.tag(TAGS.blockSize);
    if (raw === undefined) return DEFAULT_BLOCK_SIZE;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 4096 || n > MAX_BLOCK_SIZE) throw new FlistFormatError(`${this.path}: absurd block-size tag ${raw}`, { details: { blockSize: raw } });
    return n;
  }

  /** Distinct blocks of the whole flist. */
  allBlocks(): FlistBlock[] {
    return (this.#db.prepare("select distinct id, key from block").all() as Row[]).map((r) => ({ id: bytes(r.id), key: bytes(r.key) }));
  }

  /** Every entry, depth-first in canonical (sorted) order, root first. Checks names on the way. */
  *walk(): Generator<WalkEntry> {
    const root = this.root();
    const stack: WalkEntry[] = [{ path: Buffer.from("/"), inode: root }];
    const seen = new Set<number>();
    while (stack.length > 0) {
      const entry = stack.pop()!;
      if (seen.has(entry.inode.ino)) throw new FlistFormatError(`${this.path}: directory loop at inode ${entry.inode.ino}`);
      seen.add(entry.inode.ino);
      yield entry;
      if (fileType(entry.inode.mode) !== S_IFDIR) continue;
      const kids = this.children(entry.inode.ino);
      for (let i = kids.length - 1; i >= 0; i--) {
        const kid = kids[i]!;
        checkName(kid.name, this.path);
        if (i > 0 && kids[i - 1]!.name.equals(kid.name)) throw new FlistFormatError(`${this.path}: duplicate name ${kid.name.toString()} in a directory`);
        const path = entry.path.length === 1 ? Buffer.concat([entry.path, kid.name]) : Buffer.concat([entry.path, Buffer.from("/"), kid.name]);
        stack.push({ path, inode: kid });
      }
    }
    // An entry whose parent is a symlink or file (or missing) would be invisible: refuse the listing.
    const total = num((this.#db.prepare("select count(*) as n from inode").get() as Row).n);
    if (total !== seen.size) {
      throw new FlistFormatError(`${this.path}: ${total - seen.size} entries are not reachable from the root (parent is not a directory)`, { details: { total, reachable: seen.size } });
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

/** A name must be one path component: not empty, not "." or "..", no "/" and no NUL. */
export function checkName(name: Buffer, where: string): void {
  if (name.length === 0 || name.includes(0x2f) || name.includes(0) || name.equals(Buffer.from(".")) || name.equals(Buffer.from(".."))) {
    throw new FlistFormatError(`${where}: unsafe entry name ${JSON.stringify(name.toString())}`, { details: { name: toHex(name) } });
  }
}
