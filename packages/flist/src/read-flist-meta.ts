/**
 * What a node needs to know about an flist before booting it, without fetching blocks: tags,
 * signer, startup (entrypoint, args, env, dir), block size, routes, size of the listing.
 *
 * @example
 * ```ts
 * const meta = readFlistMeta("app.fl");
 * meta.signer;            // "0xf39F…" or undefined
 * meta.startup?.name;     // "/bin/entry.sh"
 * ```
 */
import { FlistReader } from "./format/flist-reader.ts";
import { resolveInListing } from "./format/resolve-in-listing.ts";
import { S_IFDIR, S_IFMT, S_IFREG, TAGS, type FlistRoute } from "./format/schema.ts";
import type { Startup } from "./oci/startup-file.ts";

export interface FlistMeta {
  path: string;
  tags: Record<string, string>;
  /** Claimed signer (tag). Check it with verifyFlist or checkFlistSignature before trusting it. */
  signer?: string;
  root?: string;
  startup?: Startup;
  blockSize: number;
  routes: FlistRoute[];
  files: number;
  dirs: number;
  bytes: number;
  /**
   * Content mode as zos decides it: a full VM image (`/image.raw` is a regular file), a container
   * with its own kernel (`/boot/vmlinuz` is a regular file), or a rootfs. Symlinks never count.
   */
  mode: "image" | "kernel" | "container";
}

export function readFlistMeta(path: string): FlistMeta {
  const reader = FlistReader.open(path);
  try {
    const tags = reader.tags();
    let files = 0;
    let dirs = 0;
    let bytes = 0;
    for (const inode of reader.index().byIno.values()) {
      const type = inode.mode & S_IFMT;
      if (type === S_IFDIR) dirs++;
      if (type === S_IFREG) {
        files++;
        bytes += inode.size;
      }
    }
    // By the entry's type in the listing, never by name alone: a symlink /image.raw -> /etc/shadow
    // would be resolved on the host by whoever reads it through a mount.
    const image = resolveInListing(reader, "/image.raw")?.type === "file";
    const kernel = resolveInListing(reader, "/boot/vmlinuz")?.type === "file";
    let startup: Startup | undefined;
    try {
      if (tags[TAGS.entrypoint]) startup = JSON.parse(tags[TAGS.entrypoint]!) as Startup;
    } catch { /* an unreadable tag is reported as no startup */ }
    return {
      path, tags, signer: tags[TAGS.signer], root: tags[TAGS.root], startup, blockSize: reader.blockSize(), routes: reader.routes(),
      files, dirs, bytes, mode: image ? "image" : kernel ? "kernel" : "container",
    };
  } finally {
    reader.close();
  }
}
