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
  /** Content mode as zos decides it: a full VM image, a container with its own kernel, or a rootfs. */
  mode: "image" | "kernel" | "container";
}

export function readFlistMeta(path: string): FlistMeta {
  const reader = FlistReader.open(path);
  try {
    const tags = reader.tags();
    let files = 0;
    let dirs = 0;
    let bytes = 0;
    let image = false;
    let kernel = false;
    for (const { path: p, inode } of reader.walk()) {
      const type = inode.mode & S_IFMT;
      if (type === S_IFDIR) dirs++;
      if (type === S_IFREG) {
        files++;
        bytes += inode.size;
      }
      const name = p.toString();
      if (name === "/image.raw") image = true;
      if (name === "/boot/vmlinuz") kernel = true;
    }
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
