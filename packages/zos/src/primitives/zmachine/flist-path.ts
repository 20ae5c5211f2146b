/**
 * Resolves a path inside an flist, from its listing only: nothing is looked up on the host, so
 * no answer can depend on (or reveal) a host file. Semantics are those of the guest, which sees
 * the flist as its root: absolute symlink targets start at the flist root, relative ones at the
 * link's directory. Any `..` that would climb above the root, and symlink chains longer than 40,
 * are refused (FlistPathError). The canonical path returned names no symlink and no `..`, so
 * `join(mountpoint, canonical)` stays inside the mount.
 *
 * @example
 * ```ts
 * const r = resolveInFlist(reader, "/bin/sh");       // { path: "/bin/busybox", type: "file", inode }
 * resolveInFlist(reader, "/image.raw", { follow: false })?.type; // "symlink" → not an image
 * resolveInFlist(reader, "/../../etc/shadow");       // throws FlistPathError: leaves the flist root
 * ```
 */
import { fileType, S_IFDIR, S_IFLNK, S_IFREG, type FlistInode, type FlistReader } from "@zgrid/flist";
import { BaseError } from "@zgrid/types";

export class FlistPathError extends BaseError {
  override readonly code: string = "FLIST_PATH";
}

export interface FlistPath {
  /** Canonical absolute path inside the flist (no symlink, no `..`). */
  path: string;
  type: "file" | "dir" | "symlink" | "other";
  inode: FlistInode;
}

const MAX_LINKS = 40;
const MAX_PATH = 4096;

function typeOf(i: FlistInode): FlistPath["type"] {
  const t = fileType(i.mode);
  return t === S_IFREG ? "file" : t === S_IFDIR ? "dir" : t === S_IFLNK ? "symlink" : "other";
}

/** The entry at `path` (absolute, inside the flist), or undefined when it does not exist. */
export function resolveInFlist(reader: FlistReader, path: string, options: { follow?: boolean } = {}): FlistPath | undefined {
  const follow = options.follow ?? true;
  if (!path.startsWith("/") || path.length > MAX_PATH || path.includes("\0")) {
    throw new FlistPathError(`${JSON.stringify(path.slice(0, 200))} is not an absolute path inside the flist`, { details: { path: path.slice(0, 200) } });
  }
  const escape = () => new FlistPathError(`${path} leaves the flist's root (.. above / or a symlink pointing outside)`, {
    details: { path }, hint: "name a path inside the image, without .. climbing above /",
  });
  const root = reader.root();
  let links = 0;
  // A stack of resolved inodes from the root, and the components still to walk.
  let stack: FlistInode[] = [root];
  let todo = path.split("/").filter((c) => c !== "" && c !== ".");
  while (todo.length > 0) {
    const name = todo.shift()!;
    if (name === "..") {
      if (stack.length === 1) throw escape();
      stack.pop();
      continue;
    }
    const dir = stack[stack.length - 1]!;
    if (typeOf(dir) !== "dir") return undefined;
    const child = reader.lookup(dir.ino, Buffer.from(name));
    if (!child) return undefined;
    const last = todo.length === 0;
    if (typeOf(child) === "symlink" && (!last || follow)) {
      if (++links > MAX_LINKS) throw new FlistPathError(`${path}: too many levels of symbolic links in the flist`, { details: { path } });
      const target = (child.target ?? Buffer.alloc(0)).toString("utf8");
      if (target === "" || target.includes("\0")) return undefined;
      if (target.startsWith("/")) stack = [root];
      todo = [...target.split("/").filter((c) => c !== "" && c !== "."), ...todo];
      continue;
    }
    stack.push(child);
  }
  const names = stack.slice(1).map((i) => i.name.toString("utf8"));
  const inode = stack[stack.length - 1]!;
  return { path: `/${names.join("/")}`, type: typeOf(inode), inode };
}

/**
 * How zos boots an flist, from the entry types in its listing: a regular file `/image.raw` is a
 * full-VM image; anything else named `/image.raw` (a symlink, a directory, a device) is refused.
 */
export function flistBootMode(reader: FlistReader): "image" | "container" {
  const image = resolveInFlist(reader, "/image.raw", { follow: false });
  if (!image) return "container";
  if (image.type !== "file") {
    throw new FlistPathError(`/image.raw in the flist is a ${image.type === "symlink" ? "symbolic link" : image.type === "dir" ? "directory" : "special file"}, not a regular file`, {
      details: { type: image.type }, hint: "a full-VM flist must hold its disk image as a regular file /image.raw",
    });
  }
  return "image";
}
