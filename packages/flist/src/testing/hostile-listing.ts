/**
 * Writes large or hostile listings for tests and benches, the way an attacker would: rfs tables
 * without rfs's indexes (so every per-directory query would scan the whole table), many
 * directories, deep chains, long names.
 *
 * @example
 * ```ts
 * writeDirListing("big.fl", { dirs: 30_000 });               // a tree of 30k dirs, no indexes
 * writeDirListing("deep.fl", { dirs: 1000, fanout: 1 });     // one chain 1000 deep
 * ```
 */
import { rmSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";

const BARE_SCHEMA = `
CREATE TABLE inode (ino INTEGER PRIMARY KEY AUTOINCREMENT, parent INTEGER, name VARCHAR(255), size INTEGER,
  uid INTEGER, gid INTEGER, mode INTEGER, rdev INTEGER, ctime INTEGER, mtime INTEGER);
CREATE TABLE extra (ino INTEGER PRIMARY KEY, data VARCHAR(4096));
CREATE TABLE block (ino INTEGER, id VARCHAR(32), key VARCHAR(32));
CREATE TABLE tag (key VARCHAR(10) PRIMARY KEY, value VARCHAR(255));
CREATE TABLE route (start integer, end integer, url VARCHAR(2048));
`;

export interface DirListingOptions {
  /** Directories besides the root. */
  dirs: number;
  /** Children per directory (1 = a single chain). Default 16. */
  fanout?: number;
  /** Name of each directory (default `d<i>`). */
  name?: (i: number) => string;
}

/** A listing of only directories, without any index. Returns the file path. */
export function writeDirListing(path: string, o: DirListingOptions): string {
  rmSync(path, { force: true });
  const db = new DatabaseSync(path);
  db.exec(BARE_SCHEMA);
  db.exec("BEGIN");
  const insert = db.prepare("insert into inode (ino, parent, name, size, uid, gid, mode, rdev, ctime, mtime) values (?, ?, ?, 4096, 0, 0, ?, 0, 0, 0)");
  insert.run(1, 0, "/", 0o40755);
  const fanout = o.fanout ?? 16;
  for (let i = 0; i < o.dirs; i++) {
    const ino = i + 2;
    const parent = Math.floor(i / fanout) + 1;
    insert.run(ino, parent, o.name ? o.name(i) : `d${i}`, 0o40755);
  }
  db.exec("COMMIT");
  db.close();
  return path;
}
