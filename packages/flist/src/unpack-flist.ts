/**
 * Unpacks an flist into a directory: every block fetched and verified, every file type and its
 * metadata (uid/gid when root, mode, mtime to the microsecond, xattrs) restored.
 * Safety: names are single path components; files are created with O_EXCL under directories this
 * function created, so nothing is written through a symlink or outside the target. Work happens
 * in `<target>.partial-<pid>` which is renamed to `target` only when complete.
 *
 * @example
 * ```ts
 * await unpackFlist({ flist: "app.fl", target: "/tmp/app", trustedSigners: [publisher] });
 * ```
 */
import { spawnSync } from "node:child_process";
import { chmodSync, closeSync, existsSync, lstatSync, linkSync, lchownSync, lutimesSync, mkdirSync, openSync, readSync, readdirSync, renameSync, rmSync, rmdirSync, symlinkSync, writeSync } from "node:fs";
import { resolve } from "node:path";
import { createLogger } from "@zgrid/log";
import { UnpackError } from "./errors/flist-errors.ts";
import { decodeBlock } from "./format/block-codec.ts";
import { blake2b256 } from "./format/hash.ts";
import { FlistReader } from "./format/flist-reader.ts";
import { withLocalFlist } from "./format/local-flist.ts";
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, TAGS, type FlistInode, type FlistXattr } from "./format/schema.ts";
import { restoreXattrs } from "./pack/xattrs.ts";
import { checkFlistSignature } from "./sign/sign-flist.ts";
import type { BlockStore } from "./store/block-store.ts";
import type { HttpStoreOptions } from "./store/http-store.ts";
import { resolveStores } from "./store/resolve-stores.ts";

const log = createLogger("flist.unpack");

export interface UnpackOptions {
  /** Path or http(s) URL of the .fl file. */
  flist: string;
  target: string;
  stores?: BlockStore | string[];
  requireSignature?: boolean;
  trustedSigners?: string[];
  /** Blocks fetched ahead within a file. */
  concurrency?: number;
  /** Limits, cancellation and egress hook for http(s) fetches (the .fl and blocks). */
  http?: HttpStoreOptions;
  /**
   * An earlier unpack of a similar flist (e.g. the previous release): a regular file there with the
   * same path, size, mode, owner and mtime whose content hashes to this listing's block keys is
   * hard-linked instead of fetched (verified, so a modified copy is never reused).
   */
  reuseDir?: string;
}

export interface UnpackStats {
  entries: number;
  bytes: number;
  /** Bytes hard-linked from `reuseDir` (part of `bytes`). */
  reusedBytes?: number;
  seconds: number;
}

/** Linux dev_t -> major/minor (glibc encoding). */
export function splitRdev(rdev: number): { major: bigint; minor: bigint } {
  const r = BigInt(rdev);
  return { major: ((r >> 8n) & 0xfffn) | ((r >> 32n) & ~0xfffn), minor: (r & 0xffn) | ((r >> 12n) & ~0xffn) };
}

export async function unpackFlist(options: UnpackOptions): Promise<UnpackStats> {
  return withLocalFlist(options.flist, (path) => unpackLocal(path, options), options.http);
}

async function unpackLocal(flist: string, options: UnpackOptions): Promise<UnpackStats> {
  const started = performance.now();
  const target = resolve(options.target);
  if (existsSync(target) && !lstatSync(target).isDirectory()) {
    throw new UnpackError(`${target} exists and is not a directory`, { hint: "unpack into a new or empty directory", details: { target } });
  }
  if (existsSync(target) && readdirSync(target).length > 0) {
    throw new UnpackError(`${target} is not empty`, { hint: "unpack into a new or empty directory", details: { target } });
  }
  const reader = FlistReader.open(flist);
  const staging = `${target}.partial-${process.pid}`;
  const isRoot = process.getuid?.() === 0;
  const stats: UnpackStats = { entries: 0, bytes: 0, seconds: 0 };
  try {
    if (reader.tag(TAGS.signature) !== undefined || options.requireSignature || options.trustedSigners) {
      await checkFlistSignature(reader, { trustedSigners: options.trustedSigners });
    }
    const store = resolveStores(reader, options.stores, options.http);
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { mode: 0o700 });
    const done: Array<{ disk: Buffer; inode: FlistInode; xattrs: FlistXattr[] }> = [];
    const diskPaths = new Map<number, Buffer>();
    const links: Array<{ disk: Buffer; inode: FlistInode }> = [];
    const base = Buffer.from(staging);
    const reuseBase = options.reuseDir ? Buffer.from(resolve(options.reuseDir)) : undefined;
    for (const { path, inode } of reader.walk()) {
      const disk = path.length === 1 ? base : Buffer.concat([base, path]);
      const type = inode.mode & S_IFMT;
      stats.entries++;
      if (type === S_IFDIR) {
        if (disk !== base) mkdirSync(disk, { mode: 0o700 });
      } else if (type === S_IFREG && inode.link !== undefined) {
        links.push({ disk, inode });
        continue;
      } else if (type === S_IFREG && reuseBase && reuseFile(reader, inode, Buffer.concat([reuseBase, path]), disk, isRoot)) {
        stats.bytes += inode.size;
        stats.reusedBytes = (stats.reusedBytes ?? 0) + inode.size;
      } else if (type === S_IFREG) {
        stats.bytes += await writeFileBlocks(reader, store, inode, disk, options.concurrency ?? 4);
      } else if (type === S_IFLNK) {
        if (!inode.target) throw new UnpackError(`symlink ${path.toString()} has no target`);
        symlinkSync(inode.target, disk);
      } else if (type === S_IFCHR || type === S_IFBLK || type === S_IFIFO) {
        const { major, minor } = splitRdev(inode.rdev);
        // mknod(2) is not in Node: use mknod(1), whose arguments must be valid UTF-8.
        const name = disk.toString("utf8");
        if (!Buffer.from(name).equals(disk)) throw new UnpackError(`device/fifo with a non-UTF-8 name is not supported: ${name}`);
        const args = type === S_IFIFO ? [name, "p"] : [name, type === S_IFCHR ? "c" : "b", String(major), String(minor)];
        const r = spawnSync("mknod", ["-m", "600", ...args]);
        if (r.status !== 0) throw new UnpackError(`cannot create device/fifo ${path.toString()}: ${r.stderr?.toString() ?? r.error?.message}`);
      } else if (type === S_IFSOCK) {
        log.debug({ path: path.toString() }, "socket skipped");
        continue;
      } else {
        throw new UnpackError(`unknown file type ${type.toString(8)} at ${path.toString()}`);
      }
      diskPaths.set(inode.ino, disk);
      done.push({ disk, inode, xattrs: reader.xattrs(inode.ino) });
    }
    for (const l of links) {
      const first = diskPaths.get(l.inode.link!);
      const firstInode = first ? reader.inode(l.inode.link!) : undefined;
      if (!first || !firstInode || (firstInode.mode & S_IFMT) !== S_IFREG || firstInode.link !== undefined) {
        throw new UnpackError(`hard link ${l.disk.subarray(base.length).toString()} points to a missing or non-regular inode ${l.inode.link}`);
      }
      linkSync(first, l.disk);
    }
    // Metadata: owner before mode (chown clears setuid), xattrs after chown (it clears
    // security.capability), mtimes last and children before parents.
    for (const { disk, inode } of done) {
      if (isRoot) lchownSync(disk, inode.uid, inode.gid);
      if ((inode.mode & S_IFMT) !== S_IFLNK) chmodSync(disk, inode.mode & 0o7777);
    }
    restoreXattrs(done.filter((d) => (d.inode.mode & S_IFMT) !== S_IFLNK).map((d) => ({ path: d.disk, xattrs: d.xattrs })));
    for (let i = done.length - 1; i >= 0; i--) {
      const { disk, inode } = done[i]!;
      const t = inode.mtime + inode.mtimeNsec / 1e9;
      // Node turns a negative number into "now"; a numeric string is taken as is.
      const when = t < 0 ? String(t) : t;
      lutimesSync(disk, when, when);
    }
    if (existsSync(target)) rmdirSync(target);
    renameSync(staging, target);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  } finally {
    reader.close();
  }
  stats.seconds = (performance.now() - started) / 1000;
  return stats;
}

/** Hard-links `src` to `disk` when it holds exactly the inode's content and metadata (each block's plaintext hashed). */
function reuseFile(reader: FlistReader, inode: FlistInode, src: Buffer, disk: Buffer, isRoot: boolean): boolean {
  let fd: number | undefined;
  try {
    const st = lstatSync(src);
    if (!st.isFile() || st.size !== inode.size || (st.mode & 0o7777) !== (inode.mode & 0o7777) || Math.floor(st.mtimeMs / 1000) !== inode.mtime) return false;
    if (isRoot && (st.uid !== inode.uid || st.gid !== inode.gid)) return false;
    const blocks = reader.blocks(inode.ino);
    const bs = reader.blockSize();
    if (blocks.length !== Math.ceil(inode.size / bs)) return false;
    fd = openSync(src, "r");
    const buf = Buffer.allocUnsafe(bs);
    for (let i = 0; i < blocks.length; i++) {
      const want = Math.min(bs, inode.size - i * bs);
      let got = 0;
      while (got < want) {
        const n = readSync(fd, buf, got, want - got, i * bs + got);
        if (n === 0) return false;
        got += n;
      }
      if (!Buffer.from(blake2b256(buf.subarray(0, want))).equals(Buffer.from(blocks[i]!.key))) return false;
    }
    linkSync(src, disk);
    return true;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function writeFileBlocks(reader: FlistReader, store: BlockStore, inode: FlistInode, disk: Buffer, concurrency: number): Promise<number> {
  const blocks = reader.blocks(inode.ino);
  reader.checkSize(inode, blocks);
  const blockSize = reader.blockSize();
  const fd = openSync(disk, "wx", 0o600);
  try {
    let written = 0;
    const pending: Array<Promise<Buffer>> = [];
    const fetchOne = (i: number): Promise<Buffer> => {
      const p = store.get(blocks[i]!.id).then((data) => decodeBlock(blocks[i]!.id, blocks[i]!.key, data, blockSize));
      p.catch(() => undefined); // awaited below; avoid an unhandled rejection if an earlier block fails
      return p;
    };
    for (let i = 0; i < Math.min(concurrency, blocks.length); i++) pending.push(fetchOne(i));
    for (let i = 0; i < blocks.length; i++) {
      const plain = await pending[i]!;
      if (i + concurrency < blocks.length) pending.push(fetchOne(i + concurrency));
      let off = 0;
      while (off < plain.length) off += writeSync(fd, plain, off, plain.length - off);
      written += plain.length;
    }
    if (written !== inode.size) throw new UnpackError(`${disk.toString()}: blocks hold ${written} bytes, listing says ${inode.size}`);
    return written;
  } finally {
    closeSync(fd);
  }
}
