/**
 * Resolves a path inside an flist's listing only — never on the host. Use it instead of stat/open
 * on a mount or unpack target when deciding what an entry is (mode detection, entrypoints):
 * - components are looked up in the listing; `..` never climbs above the listing root;
 * - symlinks in the middle of the path are followed inside the listing: an absolute target
 *   (`/etc/x`) restarts at the LISTING root, a relative one at the link's directory;
 * - the last component is NOT followed unless `follow: true` (like lstat), so `/image.raw` that is
 *   a symlink reports type "symlink", never its target's type;
 * - `escaped` tells that the path or a symlink tried to climb above the root (and was kept
 *   inside): callers that want to refuse such paths check it;
 * - more than 40 symlinks (a loop) → FlistFormatError.
 *
 * @example
 * ```ts
 * const r = resolveInListing(reader, "/image.raw");
 * if (r?.type === "file") fullVm(); // a regular file, not a symlink to a host path
 * resolveInListing(reader, "/bin/sh", { follow: true }); // { type: "file", path: "/usr/bin/busybox", ... }
 * ```
 */
import { FlistFormatError } from "../errors/flist-errors.ts";
import type { FlistReader } from "./flist-reader.ts";
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG, S_IFSOCK, fileType, type FlistInode } from "./schema.ts";

export type ListingEntryType = "file" | "dir" | "symlink" | "char" | "block" | "fifo" | "socket" | "unknown";

export interface ResolvedEntry {
  type: ListingEntryType;
  inode: FlistInode;
  /** Canonical path of the entry inside the listing (symlinks resolved, no `.`/`..`). */
  path: string;
  /** True when the path or a followed symlink tried to go above the listing root. */
  escaped: boolean;
}

export interface ResolveOptions {
  /** Follow a symlink in the last component too (inside the listing). Default false (lstat). */
  follow?: boolean;
}

const MAX_LINKS = 40;

export function entryType(mode: number): ListingEntryType {
  switch (fileType(mode)) {
    case S_IFREG: return "file";
    case S_IFDIR: return "dir";
    case S_IFLNK: return "symlink";
    case S_IFCHR: return "char";
    case S_IFBLK: return "block";
    case S_IFIFO: return "fifo";
    case S_IFSOCK: return "socket";
    default: return "unknown";
  }
}

function split(path: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i === path.length || path[i] === 0x2f) {
      if (i > start) out.push(path.subarray(start, i));
      start = i + 1;
    }
  }
  return out;
}

/** Returns the entry, or undefined when a component does not exist (or is not a directory). */
export function resolveInListing(reader: FlistReader, path: string | Buffer, options: ResolveOptions = {}): ResolvedEntry | undefined {
  const root = reader.root();
  // The stack holds the directories from the root to the current one.
  let stack: FlistInode[] = [root];
  let names: Buffer[] = [];
  let pending = split(Buffer.isBuffer(path) ? path : Buffer.from(path));
  let escaped = false;
  let links = 0;
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name.length === 1 && name[0] === 0x2e) continue;
    if (name.length === 2 && name[0] === 0x2e && name[1] === 0x2e) {
      if (stack.length === 1) escaped = true;
      else {
        stack.pop();
        names.pop();
      }
      continue;
    }
    const dir = stack[stack.length - 1]!;
    if (fileType(dir.mode) !== S_IFDIR) return undefined;
    const child = reader.lookup(dir.ino, name);
    if (!child) return undefined;
    const last = pending.length === 0;
    if (fileType(child.mode) === S_IFLNK && (!last || options.follow)) {
      if (++links > MAX_LINKS) throw new FlistFormatError(`${reader.path}: too many levels of symbolic links resolving ${path.toString()}`, { details: { path: path.toString() } });
      const target = child.target ?? Buffer.alloc(0);
      if (target[0] === 0x2f) {
        stack = [root];
        names = [];
      }
      pending = [...split(target), ...pending];
      continue;
    }
    stack.push(child);
    names.push(name);
  }
  const inode = stack[stack.length - 1]!;
  return { type: entryType(inode.mode), inode, path: `/${names.map((n) => n.toString()).join("/")}`, escaped };
}
