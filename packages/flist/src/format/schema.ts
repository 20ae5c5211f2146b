/**
 * The rfs `.fl` SQLite schema (inode, extra, block, tag, route), byte-compatible with rfs, plus two
 * zgrid tables that rfs readers ignore:
 * - `zgrid_inode(ino, mtime_nsec, link)`: sub-second mtimes and hard links (`link` = ino of the
 *   first name of the file; the linked row also lists the same blocks, so rfs sees a copy);
 * - `zgrid_xattr(ino, name, value)`: extended attributes.
 * - `zgrid_name(ino, name, target)`: exact bytes of a name (or symlink target) that is not valid
 *   UTF-8; the inode row holds its lossy UTF-8 text (U+FFFD for bad bytes), which rfs can read
 *   (rfs's reader panics on a BLOB name).
 */
export const RFS_SCHEMA = `
CREATE TABLE IF NOT EXISTS inode (
  ino INTEGER PRIMARY KEY AUTOINCREMENT, parent INTEGER, name VARCHAR(255), size INTEGER,
  uid INTEGER, gid INTEGER, mode INTEGER, rdev INTEGER, ctime INTEGER, mtime INTEGER);
CREATE INDEX IF NOT EXISTS parents ON inode (parent);
CREATE TABLE IF NOT EXISTS extra (ino INTEGER PRIMARY KEY, data VARCHAR(4096));
CREATE TABLE IF NOT EXISTS block (ino INTEGER, id VARCHAR(32), key VARCHAR(32));
CREATE INDEX IF NOT EXISTS block_ino ON block (ino);
CREATE TABLE IF NOT EXISTS tag (key VARCHAR(10) PRIMARY KEY, value VARCHAR(255));
CREATE TABLE IF NOT EXISTS route (start integer, end integer, url VARCHAR(2048));
`;

export const ZGRID_SCHEMA = `
CREATE TABLE IF NOT EXISTS zgrid_inode (ino INTEGER PRIMARY KEY, mtime_nsec INTEGER, link INTEGER);
CREATE TABLE IF NOT EXISTS zgrid_xattr (ino INTEGER, name BLOB, value BLOB);
CREATE INDEX IF NOT EXISTS zgrid_xattr_ino ON zgrid_xattr (ino);
CREATE TABLE IF NOT EXISTS zgrid_name (ino INTEGER PRIMARY KEY, name BLOB, target BLOB);
`;

/** Default block size: 512 KiB, as rfs. */
export const DEFAULT_BLOCK_SIZE = 512 * 1024;

/** Tag keys zgrid writes. */
export const TAGS = {
  blockSize: "block-size",
  version: "version",
  signer: "zgrid.signer",
  signature: "zgrid.signature",
  root: "zgrid.root",
  prefetch: "zgrid.prefetch",
  entrypoint: "zgrid.entrypoint",
} as const;

/** File type bits of `mode` (S_IFMT). */
export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;
export const S_IFSOCK = 0o140000;

export function fileType(mode: number): number {
  return mode & S_IFMT;
}

/** One entry of the listing. */
export interface FlistInode {
  ino: number;
  parent: number;
  /** Raw name bytes (may be non-UTF-8). The root is "/". */
  name: Buffer;
  size: number;
  uid: number;
  gid: number;
  mode: number;
  rdev: number;
  ctime: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** Nanoseconds part of mtime (zgrid extension; 0 in rfs flists). */
  mtimeNsec: number;
  /** Symlink target (extra.data). */
  target?: Buffer;
  /** Hard link: ino of the first name of this file (zgrid extension). */
  link?: number;
}

export interface FlistBlock {
  id: Uint8Array;
  key: Uint8Array;
}

export interface FlistRoute {
  start: number;
  end: number;
  url: string;
}

export interface FlistXattr {
  name: Buffer;
  value: Buffer;
}
