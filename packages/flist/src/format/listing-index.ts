/**
 * The in-memory index of a listing, built in linear time (N log N for sorting names) from a few
 * full-table scans — never one query per directory, so a listing without rfs's `parents` index (or
 * with hostile indexes) costs the same as one with it. Building the index validates the listing:
 * a root directory, every entry reachable from it, safe and unique names, depth and name-length
 * limits. Blocks and xattrs are loaded grouped by inode in one scan each, on first use.
 *
 * @example
 * ```ts
 * const index = buildListingIndex(db, "app.fl", listingLimits());
 * index.children.get(1); // sorted children of the root
 * ```
 */
import type { DatabaseSync } from "node:sqlite";
import { FlistFormatError } from "../errors/flist-errors.ts";
import { toHex } from "./hash.ts";
import type { ListingLimits } from "./listing-limits.ts";
import { S_IFDIR, fileType, type FlistBlock, type FlistInode, type FlistXattr } from "./schema.ts";

type Row = Record<string, unknown>;

export function rowBytes(v: unknown): Buffer {
  if (typeof v === "string") return Buffer.from(v, "utf8");
  if (v instanceof Uint8Array) return Buffer.from(v);
  return Buffer.alloc(0);
}

export function rowNum(v: unknown): number {
  return typeof v === "bigint" ? Number(v) : typeof v === "number" ? v : 0;
}

export interface ListingIndex {
  byIno: Map<number, FlistInode>;
  /** Children of each directory, sorted by name bytes. */
  children: Map<number, FlistInode[]>;
  /** Depth-first order, root first (inodes only; paths are built while walking). */
  root: FlistInode;
}

const EMPTY: FlistInode[] = [];
const DOT = Buffer.from(".");
const DOTDOT = Buffer.from("..");

/** A name must be one path component: not empty, not "." or "..", no "/" and no NUL. */
export function checkName(name: Buffer, where: string): void {
  if (name.length === 0 || name.includes(0x2f) || name.includes(0) || name.equals(DOT) || name.equals(DOTDOT)) {
    throw new FlistFormatError(`${where}: unsafe entry name ${JSON.stringify(name.toString())}`, { details: { name: toHex(name) } });
  }
}

function tableSet(db: DatabaseSync): Set<string> {
  return new Set((db.prepare("select name from sqlite_master where type = 'table'").all() as Row[]).map((r) => String(r.name)));
}

/** Scans inode, extra and zgrid's tables once each and validates the tree. */
export function buildListingIndex(db: DatabaseSync, where: string, limits: ListingLimits): ListingIndex {
  const tables = tableSet(db);
  const targets = new Map<number, Buffer>();
  for (const r of db.prepare("select ino, data from extra").iterate() as Iterable<Row>) {
    if (r.data === null || r.data === undefined) continue;
    targets.set(rowNum(r.ino), rowBytes(r.data));
  }
  const zgrid = new Map<number, { nsec: number; link?: number }>();
  if (tables.has("zgrid_inode")) {
    for (const r of db.prepare("select ino, mtime_nsec, link from zgrid_inode").iterate() as Iterable<Row>) {
      zgrid.set(rowNum(r.ino), { nsec: rowNum(r.mtime_nsec), ...(r.link !== null && r.link !== undefined ? { link: rowNum(r.link) } : {}) });
    }
  }
  // Exact bytes of names/targets that are not UTF-8 (the inode/extra rows hold a lossy text rfs reads).
  const exact = new Map<number, { name?: Buffer; target?: Buffer }>();
  if (tables.has("zgrid_name")) {
    for (const r of db.prepare("select ino, name, target from zgrid_name").iterate() as Iterable<Row>) {
      exact.set(rowNum(r.ino), {
        ...(r.name !== null && r.name !== undefined ? { name: rowBytes(r.name) } : {}),
        ...(r.target !== null && r.target !== undefined ? { target: rowBytes(r.target) } : {}),
      });
    }
  }
  const byIno = new Map<number, FlistInode>();
  const children = new Map<number, FlistInode[]>();
  for (const r of db.prepare("select ino, parent, name, size, uid, gid, mode, rdev, ctime, mtime from inode").iterate() as Iterable<Row>) {
    const ino = rowNum(r.ino);
    if (byIno.has(ino)) throw new FlistFormatError(`${where}: inode ${ino} is listed twice`, { details: { ino } });
    const z = zgrid.get(ino);
    const x = exact.get(ino);
    const inode: FlistInode = {
      ino, parent: rowNum(r.parent), name: x?.name ?? rowBytes(r.name), size: rowNum(r.size), uid: rowNum(r.uid), gid: rowNum(r.gid),
      mode: rowNum(r.mode), rdev: rowNum(r.rdev), ctime: rowNum(r.ctime), mtime: rowNum(r.mtime), mtimeNsec: z?.nsec ?? 0,
    };
    const target = x?.target ?? targets.get(ino);
    if (target !== undefined) {
      if (target.length > limits.maxTargetBytes) throw new FlistFormatError(`${where}: symlink target of inode ${ino} is ${target.length} bytes, more than ${limits.maxTargetBytes}`, { details: { ino } });
      inode.target = target;
    }
    if (z?.link !== undefined) inode.link = z.link;
    if (inode.size < 0 || !Number.isSafeInteger(inode.size)) throw new FlistFormatError(`${where}: inode ${ino} has an absurd size ${inode.size}`, { details: { ino } });
    byIno.set(ino, inode);
    if (ino === 1) continue;
    checkName(inode.name, where);
    if (inode.name.length > limits.maxNameBytes) {
      throw new FlistFormatError(`${where}: name of inode ${ino} is ${inode.name.length} bytes, more than ${limits.maxNameBytes}`, { details: { ino, name: toHex(inode.name.subarray(0, 64)) } });
    }
    const list = children.get(inode.parent);
    if (list) list.push(inode);
    else children.set(inode.parent, [inode]);
  }
  const root = byIno.get(1);
  if (!root || fileType(root.mode) !== S_IFDIR) throw new FlistFormatError(`${where}: flist has no root directory (ino 1)`, { details: { path: where } });
  // Depth-first from the root; each inode sits in exactly one child list, so no loops are possible.
  let reached = 1;
  const stack: Array<{ ino: number; depth: number }> = [{ ino: 1, depth: 0 }];
  while (stack.length > 0) {
    const { ino, depth } = stack.pop()!;
    const kids = children.get(ino);
    if (!kids) continue;
    if (depth + 1 > limits.maxDepth) throw new FlistFormatError(`${where}: directories nested deeper than ${limits.maxDepth}`, { details: { depth: depth + 1 } });
    kids.sort((a, b) => Buffer.compare(a.name, b.name));
    for (let i = 0; i < kids.length; i++) {
      const kid = kids[i]!;
      if (i > 0 && kids[i - 1]!.name.equals(kid.name)) throw new FlistFormatError(`${where}: duplicate name ${kid.name.toString()} in a directory`);
      reached++;
      if (fileType(kid.mode) === S_IFDIR) stack.push({ ino: kid.ino, depth: depth + 1 });
    }
  }
  // An entry whose parent is a symlink or file (or missing) would be invisible: refuse the listing.
  if (reached !== byIno.size) {
    throw new FlistFormatError(`${where}: ${byIno.size - reached} entries are not reachable from the root (parent is not a directory)`, {
      details: { total: byIno.size, reachable: reached },
    });
  }
  return { byIno, children, root };
}

export function childrenOf(index: ListingIndex, ino: number): FlistInode[] {
  const inode = index.byIno.get(ino);
  return inode && fileType(inode.mode) === S_IFDIR ? (index.children.get(ino) ?? EMPTY) : EMPTY;
}

/** Binary search in a directory's sorted children. */
export function findChild(index: ListingIndex, parent: number, name: Buffer): FlistInode | undefined {
  const kids = childrenOf(index, parent);
  let lo = 0;
  let hi = kids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = Buffer.compare(kids[mid]!.name, name);
    if (c === 0) return kids[mid];
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/** Every block row grouped by inode, in file order (one scan). */
export function loadBlocks(db: DatabaseSync, where: string): Map<number, FlistBlock[]> {
  const out = new Map<number, FlistBlock[]>();
  for (const r of db.prepare("select ino, id, key from block order by rowid").iterate() as Iterable<Row>) {
    const ino = rowNum(r.ino);
    const id = rowBytes(r.id);
    const key = rowBytes(r.key);
    if (id.length !== 32 || key.length !== 32) throw new FlistFormatError(`${where}: block of inode ${ino} has a bad id/key length`, { details: { ino } });
    const list = out.get(ino);
    if (list) list.push({ id, key });
    else out.set(ino, [{ id, key }]);
  }
  return out;
}

/** Every xattr grouped by inode (one scan). */
export function loadXattrs(db: DatabaseSync): Map<number, FlistXattr[]> {
  const out = new Map<number, FlistXattr[]>();
  for (const r of db.prepare("select ino, name, value from zgrid_xattr order by rowid").iterate() as Iterable<Row>) {
    const ino = rowNum(r.ino);
    const x = { name: rowBytes(r.name), value: rowBytes(r.value) };
    const list = out.get(ino);
    if (list) list.push(x);
    else out.set(ino, [x]);
  }
  return out;
}
