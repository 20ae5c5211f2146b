/**
 * The FUSE operations of a read-only flist mount (fuse-native). Reads fetch only the blocks they
 * touch; a sequential reader triggers parallel read-ahead. A block that fails verification fails
 * that read with EIO and is logged with the file and block.
 * Names and paths are exchanged with fuse-native as strings in `encoding`: "latin1" with the
 * rebuilt addon (one char per byte: exact names, fuse-binding.ts), "utf8" with the npm prebuild
 * (a non-UTF-8 name shows with U+FFFD and is found again by that lossy form).
 *
 * @example
 * ```ts
 * const fs = new FlistFs(reader, fetcher);
 * new Fuse(mountpoint, fs.operations(), { force: true }).mount(cb);
 * ```
 */
import { createLogger } from "@zgrid/log";
import { BlockIntegrityError } from "../errors/flist-errors.ts";
import type { FlistReader } from "../format/flist-reader.ts";
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, type FlistBlock, type FlistInode } from "../format/schema.ts";
import type { BlockFetcher } from "./block-fetcher.ts";

const log = createLogger("flist.mount");

const ENOENT = -2;
const EIO = -5;
const ENOTDIR = -20;
const EINVAL = -22;
const ENODATA = -61;

type Cb = (...args: unknown[]) => void;

interface OpenFile {
  inode: FlistInode;
  blocks: FlistBlock[];
  lastBlock: number;
  /** Current read-ahead window in blocks (grows while the reader stays sequential). */
  ahead: number;
}

export class FlistFs {
  readonly #reader: FlistReader;
  readonly #fetcher: BlockFetcher;
  readonly #blockSize: number;
  readonly #readAhead: number;
  readonly #paths = new Map<string, FlistInode | null>();
  /** Children by name of recently listed directories (big dirs are looked up many times). */
  readonly #dirs = new Map<number, Map<string, FlistInode>>();
  readonly #open = new Map<number, OpenFile>();
  readonly #encoding: "latin1" | "utf8";
  #nextFd = 10;
  /** Names per hard-linked file (canonical ino → count), built on first need. */
  #linkCounts: Map<number, number> | undefined;

  constructor(reader: FlistReader, fetcher: BlockFetcher, options: { readAhead?: number; encoding?: "latin1" | "utf8" } = {}) {
    this.#reader = reader;
    this.#encoding = options.encoding ?? "utf8";
    this.#fetcher = fetcher;
    this.#blockSize = reader.blockSize();
    this.#readAhead = options.readAhead ?? 8;
    this.#paths.set("/", reader.root());
  }

  /** Resolves a mount path to its inode (cached, including misses). */
  resolve(path: string): FlistInode | undefined {
    const known = this.#paths.get(path);
    if (known !== undefined) return known ?? undefined;
    const cut = path.lastIndexOf("/");
    const parent = this.resolve(cut === 0 ? "/" : path.slice(0, cut));
    let found: FlistInode | undefined;
    if (parent && (parent.mode & S_IFMT) === S_IFDIR) found = this.#childrenByName(parent.ino).get(path.slice(cut + 1));
    if (this.#paths.size > 200_000) this.#paths.clear();
    this.#paths.set(path, found ?? null);
    return found;
  }

  /** A name (or link target) as the string fuse-native passes for those bytes. */
  #str(bytes: Uint8Array): string {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(this.#encoding);
  }

  /** A path fuse-native passed, readable in logs (UTF-8 text of its bytes). */
  #shown(path: unknown): string {
    return Buffer.from(String(path), this.#encoding).toString();
  }

  /** Children keyed by the string fuse-native uses for their names (see `encoding`). */
  #childrenByName(ino: number): Map<string, FlistInode> {
    let map = this.#dirs.get(ino);
    if (map) {
      this.#dirs.delete(ino);
    } else {
      map = new Map();
      for (const k of this.#reader.children(ino)) if (!map.has(this.#str(k.name))) map.set(this.#str(k.name), k);
      if (this.#dirs.size >= 1024) this.#dirs.delete(this.#dirs.keys().next().value!);
    }
    this.#dirs.set(ino, map);
    return map;
  }

  /**
   * The inode number and link count a file shows: every name of a hard-linked regular file shows
   * the ino of its first name and the number of its names (the mount is started with `use_ino`,
   * so these reach stat(2) and, through 9p, the guest). A link to anything but an existing regular
   * file (a hostile listing) is ignored: that name shows as a file of its own.
   */
  identity(inode: FlistInode): { ino: number; nlink: number } {
    const canonical = this.#canonical(inode);
    return { ino: canonical, nlink: this.#counts().get(canonical) ?? 1 };
  }

  #canonical(inode: FlistInode): number {
    if (inode.link === undefined || inode.link === inode.ino || (inode.mode & S_IFMT) !== S_IFREG) return inode.ino;
    const first = this.#reader.inode(inode.link);
    return first && (first.mode & S_IFMT) === S_IFREG && first.link === undefined ? first.ino : inode.ino;
  }

  #counts(): Map<number, number> {
    if (!this.#linkCounts) {
      const counts = new Map<number, number>();
      for (const i of this.#reader.index().byIno.values()) {
        const c = this.#canonical(i);
        if (c !== i.ino) counts.set(c, (counts.get(c) ?? 1) + 1);
      }
      this.#linkCounts = counts;
    }
    return this.#linkCounts;
  }

  #stat(inode: FlistInode): Record<string, unknown> {
    const mtime = new Date(inode.mtime * 1000 + Math.floor(inode.mtimeNsec / 1e6));
    const dir = (inode.mode & S_IFMT) === S_IFDIR;
    const size = (inode.mode & S_IFMT) === S_IFLNK ? (inode.target?.length ?? 0) : dir ? 4096 : inode.size;
    return {
      mode: inode.mode, uid: inode.uid, gid: inode.gid, size, rdev: inode.rdev, ...(dir ? { ino: inode.ino, nlink: 2 } : this.identity(inode)),
      mtime, atime: mtime, ctime: new Date(inode.ctime * 1000), blksize: this.#blockSize, blocks: Math.ceil(size / 512),
    };
  }

  /** Paths of the files to fetch first (the `zgrid.prefetch` tag), as block lists. */
  blocksOf(path: string): FlistBlock[] {
    const inode = this.resolve(path);
    return inode && (inode.mode & S_IFMT) === S_IFREG ? this.#reader.blocks(inode.ino) : [];
  }

  async read(fd: number, buf: Buffer, len: number, pos: number, path: string): Promise<number> {
    const file = this.#open.get(fd);
    if (!file) return EINVAL;
    const size = file.inode.size;
    if (pos >= size) return 0;
    const end = Math.min(size, pos + len);
    const first = Math.floor(pos / this.#blockSize);
    const last = Math.floor((end - 1) / this.#blockSize);
    // A reader moving on to the next block is sequential: fetch ahead, doubling the window up to
    // readAhead (like the kernel), so random access (mmap'ed libraries) wastes no bandwidth.
    if (first === file.lastBlock + 1) {
      file.ahead = Math.min(this.#readAhead, Math.max(2, file.ahead * 2));
      this.#fetcher.prefetch(file.blocks.slice(last + 1, last + 1 + file.ahead));
    } else if (first !== file.lastBlock) {
      file.ahead = 0;
    }
    file.lastBlock = last;
    let copied = 0;
    for (let i = first; i <= last; i++) {
      const block = file.blocks[i];
      if (!block) return EIO;
      let plain: Buffer;
      try {
        plain = await this.#fetcher.get(block);
      } catch (e) {
        log.error({ file: this.#shown(path), block: Buffer.from(block.id).toString("hex"), index: i, err: (e as Error).message.split("\n")[0], integrity: e instanceof BlockIntegrityError }, "read failed");
        return EIO;
      }
      const from = i === first ? pos - i * this.#blockSize : 0;
      const to = Math.min(plain.length, end - i * this.#blockSize);
      if (to < from) return EIO;
      plain.copy(buf, copied, from, to);
      copied += to - from;
    }
    return copied;
  }

  /**
   * The fuse-native operations object. Every operation is guarded: an unexpected error (e.g. a
   * listing that turns out corrupt) answers EIO instead of killing the mount process.
   */
  operations(): Record<string, Cb> {
    const ops = this.#rawOperations();
    const guarded: Record<string, Cb> = {};
    for (const [name, op] of Object.entries(ops)) {
      guarded[name] = (...args: unknown[]) => {
        const cb = args[args.length - 1] as Cb;
        try {
          op(...args);
        } catch (e) {
          log.error({ op: name, path: this.#shown(args[0]), err: (e as Error).message }, "operation failed");
          cb(EIO);
        }
      };
    }
    return guarded;
  }

  #rawOperations(): Record<string, Cb> {
    return {
      getattr: (path: unknown, cb: unknown) => {
        const inode = this.resolve(path as string);
        if (!inode) return (cb as Cb)(ENOENT);
        (cb as Cb)(0, this.#stat(inode));
      },
      readdir: (path: unknown, cb: unknown) => {
        const inode = this.resolve(path as string);
        if (!inode) return (cb as Cb)(ENOENT);
        if ((inode.mode & S_IFMT) !== S_IFDIR) return (cb as Cb)(ENOTDIR);
        const kids = this.#reader.children(inode.ino);
        (cb as Cb)(0, kids.map((k) => this.#str(k.name)), kids.map((k) => this.#stat(k)));
      },
      readlink: (path: unknown, cb: unknown) => {
        const inode = this.resolve(path as string);
        if (!inode || (inode.mode & S_IFMT) !== S_IFLNK) return (cb as Cb)(ENOENT);
        (cb as Cb)(0, inode.target ? this.#str(inode.target) : "");
      },
      open: (path: unknown, _flags: unknown, cb: unknown) => {
        const inode = this.resolve(path as string);
        if (!inode) return (cb as Cb)(ENOENT);
        try {
          const blocks = this.#reader.blocks(inode.ino);
          this.#reader.checkSize(inode, blocks);
          const fd = this.#nextFd++;
          this.#open.set(fd, { inode, blocks, lastBlock: -2, ahead: 0 });
          (cb as Cb)(0, fd);
        } catch (e) {
          log.error({ file: this.#shown(path), err: (e as Error).message }, "open failed");
          (cb as Cb)(EIO);
        }
      },
      release: (_path: unknown, fd: unknown, cb: unknown) => {
        this.#open.delete(fd as number);
        (cb as Cb)(0);
      },
      read: (path: unknown, fd: unknown, buf: unknown, len: unknown, pos: unknown, cb: unknown) => {
        this.read(fd as number, buf as Buffer, len as number, pos as number, path as string).then((n) => (cb as Cb)(n), () => (cb as Cb)(EIO));
      },
      getxattr: (path: unknown, name: unknown, _position: unknown, cb: unknown) => {
        const inode = this.resolve(path as string);
        if (!inode) return (cb as Cb)(ENOENT);
        const x = this.#reader.xattrs(inode.ino).find((a) => this.#str(a.name) === name);
        if (!x) return (cb as Cb)(ENODATA);
        (cb as Cb)(0, x.value);
      },
      listxattr: (path: unknown, cb: unknown) => {
        const inode = this.resolve(path as string);
        if (!inode) return (cb as Cb)(ENOENT);
        // fuse-native writes these names into FUSE's buffer as UTF-8 itself (index.js), whatever the addon.
        (cb as Cb)(0, this.#reader.xattrs(inode.ino).map((a) => a.name.toString()));
      },
      statfs: (_path: unknown, cb: unknown) => {
        (cb as Cb)(0, { bsize: this.#blockSize, frsize: this.#blockSize, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, favail: 0, fsid: 0, flag: 1, namemax: 255 });
      },
    };
  }
}
