/**
 * Writes a `.fl` file. Everything goes to `<path>.partial` inside one transaction and is renamed
 * to `path` by `finish()`, so a crash never leaves a half-written flist that looks complete.
 *
 * @example
 * ```ts
 * const w = new FlistWriter("out.fl");
 * const root = w.addInode({ parent: 0, name: Buffer.from("/"), mode: 0o40755, ... });
 * w.finish();
 * ```
 */
import { rmSync, renameSync } from "node:fs";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { RFS_SCHEMA, ZGRID_SCHEMA, type FlistInode, type FlistRoute, type FlistXattr } from "./schema.ts";

export type NewInode = Omit<FlistInode, "ino">;

/** True when the bytes are valid UTF-8 (round-trip exact). */
export function isUtf8(bytes: Buffer): boolean {
  return Buffer.from(bytes.toString("utf8"), "utf8").equals(bytes);
}

/** Symlink targets: TEXT when valid UTF-8, else a BLOB (rfs reads extra.data as bytes either way). */
export function nameForDb(name: Buffer): string | Buffer {
  return isUtf8(name) ? name.toString("utf8") : name;
}

export class FlistWriter {
  readonly path: string;
  readonly #partial: string;
  readonly #db: DatabaseSync;
  readonly #insertInode: StatementSync;
  readonly #insertExtra: StatementSync;
  readonly #insertBlock: StatementSync;
  readonly #insertZgrid: StatementSync;
  readonly #insertXattr: StatementSync;
  readonly #insertName: StatementSync;
  #done = false;

  constructor(path: string) {
    this.path = path;
    this.#partial = `${path}.partial`;
    rmSync(this.#partial, { force: true });
    this.#db = new DatabaseSync(this.#partial);
    this.#db.exec("PRAGMA journal_mode = DELETE; PRAGMA synchronous = OFF;");
    this.#db.exec(RFS_SCHEMA);
    this.#db.exec(ZGRID_SCHEMA);
    this.#db.exec("BEGIN");
    this.#insertInode = this.#db.prepare("insert into inode (parent, name, size, uid, gid, mode, rdev, ctime, mtime) values (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    this.#insertExtra = this.#db.prepare("insert into extra (ino, data) values (?, ?)");
    this.#insertBlock = this.#db.prepare("insert into block (ino, id, key) values (?, ?, ?)");
    this.#insertZgrid = this.#db.prepare("insert or replace into zgrid_inode (ino, mtime_nsec, link) values (?, ?, ?)");
    this.#insertXattr = this.#db.prepare("insert into zgrid_xattr (ino, name, value) values (?, ?, ?)");
    this.#insertName = this.#db.prepare("insert or replace into zgrid_name (ino, name, target) values (?, ?, ?)");
  }

  /** Adds an inode; returns its ino (the root, added first, gets 1). */
  addInode(inode: NewInode): number {
    // rfs reads names as TEXT: store the lossy UTF-8 form there and the exact bytes in zgrid_name.
    const r = this.#insertInode.run(inode.parent, inode.name.toString("utf8"), inode.size, inode.uid, inode.gid, inode.mode, inode.rdev, inode.ctime, inode.mtime);
    const ino = Number(r.lastInsertRowid);
    // rfs stores symlink targets as TEXT; keep bytes when the target is not UTF-8.
    if (inode.target !== undefined) this.#insertExtra.run(ino, nameForDb(inode.target));
    if (!isUtf8(inode.name)) this.#insertName.run(ino, inode.name, null);
    if (inode.mtimeNsec || inode.link !== undefined) this.#insertZgrid.run(ino, inode.mtimeNsec, inode.link ?? null);
    return ino;
  }

  addBlock(ino: number, id: Uint8Array, key: Uint8Array): void {
    this.#insertBlock.run(ino, id, key);
  }

  addXattr(ino: number, xattr: FlistXattr): void {
    this.#insertXattr.run(ino, xattr.name, xattr.value);
  }

  setTag(key: string, value: string): void {
    this.#db.prepare("insert or replace into tag (key, value) values (?, ?)").run(key, value);
  }

  addRoute(route: FlistRoute): void {
    this.#db.prepare("insert into route (start, end, url) values (?, ?, ?)").run(route.start, route.end, route.url);
  }

  /** Commits and atomically moves the file to its final path. */
  finish(): void {
    this.#db.exec("COMMIT");
    this.#db.close();
    this.#done = true;
    renameSync(this.#partial, this.path);
  }

  /** Drops the partial file (after a failure). */
  abort(): void {
    if (this.#done) return;
    try { this.#db.close(); } catch { /* already closed */ }
    rmSync(this.#partial, { force: true });
  }
}
