/**
 * Packs a directory tree into a `.fl` file and its blocks into a store. Keeps every file type
 * (regular, dir, symlink, hard link, char/block device, FIFO, socket), uid/gid, mode, mtime with
 * nanoseconds, xattrs and non-UTF-8 names. Blocks dedup within the pack and across flists.
 *
 * @example
 * ```ts
 * const stats = await packFlist({ source: "/rootfs", output: "rootfs.fl", stores: ["dir:///srv/blocks"] });
 * stats.blocks; stats.bytes;
 * ```
 */
import { closeSync, lstatSync, openSync, readSync, readdirSync, readlinkSync } from "node:fs";
import { resolve } from "node:path";
import { FlistFormatError } from "../errors/flist-errors.ts";
import { encodeBlock } from "../format/block-codec.ts";
import { FlistWriter, type NewInode } from "../format/flist-writer.ts";
import { DEFAULT_BLOCK_SIZE, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, TAGS } from "../format/schema.ts";
import type { BlockStore } from "../store/block-store.ts";
import { openStores, RouterStore } from "../store/router-store.ts";
import { readTreeXattrs } from "./xattrs.ts";

export interface PackOptions {
  /** Directory to pack. */
  source: string;
  /** Path of the .fl file to write. */
  output: string;
  /** A store, or store specs (`[range=]url`) written to the route table. */
  stores: BlockStore | string[];
  /**
   * Block size in bytes (recorded in the `block-size` tag). Default 512 KiB. rfs's mount assumes
   * 512 KiB blocks and reads other sizes wrongly, so another size needs `force: true`.
   */
  blockSize?: number;
  /** Accept a block size other than 512 KiB (the flist then only mounts correctly with zgrid). */
  force?: boolean;
  /** Extra tags. */
  tags?: Record<string, string>;
  /** Route table to record instead of the stores' own URLs (e.g. the public URL of a hub). */
  routes?: Array<{ start: number; end: number; url: string }>;
  /** Pack xattrs (default true; needs `getfattr`). */
  xattrs?: boolean;
}

export interface PackStats {
  files: number;
  dirs: number;
  links: number;
  bytes: number;
  blocks: number;
  /** Blocks written (not already written earlier in this pack). */
  uniqueBlocks: number;
  seconds: number;
}

const MAX_IN_FLIGHT = 32;

/** Division rounding toward minus infinity (st_mtime semantics). */
function floorDiv(n: bigint, d: bigint): bigint {
  const q = n / d;
  return n % d < 0n ? q - 1n : q;
}

/** Packs `source` into `output`. The .fl appears only when complete. */
export async function packFlist(options: PackOptions): Promise<PackStats> {
  const started = performance.now();
  const source = resolve(options.source);
  const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
  if (!Number.isInteger(blockSize) || blockSize < 4096 || blockSize > 64 * 2 ** 20) {
    throw new FlistFormatError(`block size ${blockSize} is out of range (4 KiB to 64 MiB)`, { hint: "use the default 512 KiB" });
  }
  if (blockSize !== DEFAULT_BLOCK_SIZE && !options.force) {
    throw new FlistFormatError(`block size ${blockSize} is not rfs's 512 KiB: rfs's mount would read this flist wrongly`, {
      details: { blockSize }, hint: "leave --block-size out, or pass --force if only zgrid will read this flist",
    });
  }
  const store = Array.isArray(options.stores) ? openStores(options.stores, { writable: true }) : options.stores;
  const xattrs = options.xattrs === false ? new Map() : readTreeXattrs(source);
  const writer = new FlistWriter(options.output);
  const stats: PackStats = { files: 0, dirs: 0, links: 0, bytes: 0, blocks: 0, uniqueBlocks: 0, seconds: 0 };
  const written = new Set<string>();
  const hardLinks = new Map<string, { ino: number; blocks: Array<{ id: Uint8Array; key: Uint8Array }> }>();
  let inFlight: Promise<void>[] = [];
  const buffer = Buffer.allocUnsafe(blockSize);

  const flush = async (): Promise<void> => {
    const pending = inFlight;
    inFlight = [];
    await Promise.all(pending);
  };

  const addEntry = async (path: Buffer, name: Buffer, parent: number): Promise<void> => {
    const st = lstatSync(path, { bigint: true });
    const mode = Number(st.mode);
    const type = mode & S_IFMT;
    // As rfs: size is the lstat size for every type (a directory's size, a symlink's target
    // length); times are st_*time seconds, floored, with a positive nanosecond part (-1.5 s is
    // -2 s + 500000000 ns).
    const mtime = floorDiv(st.mtimeNs, 1_000_000_000n);
    const inode: NewInode = {
      parent, name, size: Number(st.size), uid: Number(st.uid), gid: Number(st.gid), mode, rdev: Number(st.rdev),
      ctime: Number(floorDiv(st.ctimeNs, 1_000_000_000n)), mtime: Number(mtime), mtimeNsec: Number(st.mtimeNs - mtime * 1_000_000_000n),
    };
    if (type === S_IFLNK) inode.target = readlinkSync(path, { encoding: "buffer" });
    const linkKey = type === S_IFREG && st.nlink > 1n ? `${st.dev}:${st.ino}` : undefined;
    const first = linkKey ? hardLinks.get(linkKey) : undefined;
    if (first) inode.link = first.ino;
    const ino = writer.addInode(inode);
    for (const x of xattrs.get(path.toString("latin1")) ?? []) writer.addXattr(ino, x);

    if (type === S_IFDIR) {
      stats.dirs++;
      const names = readdirSync(path, { encoding: "buffer" }).sort(Buffer.compare);
      for (const child of names) await addEntry(Buffer.concat([path, Buffer.from("/"), child]), child, ino);
      return;
    }
    if (type !== S_IFREG) return;
    if (first) {
      stats.links++;
      for (const b of first.blocks) writer.addBlock(ino, b.id, b.key);
      return;
    }
    stats.files++;
    const blocks: Array<{ id: Uint8Array; key: Uint8Array }> = [];
    const fd = openSync(path, "r");
    try {
      let total = 0;
      while (true) {
        let got = 0;
        while (got < blockSize) {
          const n = readSync(fd, buffer, got, blockSize - got, null);
          if (n === 0) break;
          got += n;
        }
        if (got === 0) break;
        total += got;
        const block = encodeBlock(buffer.subarray(0, got));
        writer.addBlock(ino, block.id, block.key);
        blocks.push({ id: block.id, key: block.key });
        stats.blocks++;
        const hex = Buffer.from(block.id).toString("hex");
        if (!written.has(hex)) {
          written.add(hex);
          stats.uniqueBlocks++;
          inFlight.push(store.set(block.id, block.data));
          if (inFlight.length >= MAX_IN_FLIGHT) await flush();
        }
        if (got < blockSize) break;
      }
      stats.bytes += total;
      // A file that changed while being packed would be listed inconsistently: refuse.
      if (total !== inode.size) throw new Error(`${path.toString()} changed while packing (${inode.size} -> ${total} bytes)`);
    } finally {
      closeSync(fd);
    }
    if (linkKey) hardLinks.set(linkKey, { ino, blocks });
  };

  try {
    const rootSt = lstatSync(source);
    if (!rootSt.isDirectory()) throw new Error(`${source} is not a directory`);
    await addEntry(Buffer.from(source), Buffer.from("/"), 0);
    await flush();
    writer.setTag(TAGS.blockSize, String(blockSize));
    for (const [k, v] of Object.entries(options.tags ?? {})) writer.setTag(k, v);
    const routes = options.routes ?? (store instanceof RouterStore ? store.toRoutes() : [{ start: 0, end: 255, url: store.url }]);
    for (const r of routes) writer.addRoute(r);
    writer.finish();
  } catch (e) {
    await Promise.allSettled(inFlight);
    writer.abort();
    throw e;
  }
  stats.seconds = (performance.now() - started) / 1000;
  return stats;
}
