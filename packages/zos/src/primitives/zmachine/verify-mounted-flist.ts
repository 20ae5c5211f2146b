/**
 * Reads a freshly mounted flist before a VM boots from it. Every block read through the mount is
 * re-hashed by @zgrid/flist, so a tampered block fails this read with EIO and the zmachine is
 * refused with a message naming the file — instead of a VM that dies later on an I/O error.
 * The caller decides from the listing's size (FlistMeta.bytes): small images are read entirely
 * ("all"), which also warms the cache for boot; larger ones have their entrypoint read, and the
 * rest is verified lazily on every read.
 *
 * @example
 * ```ts
 * await verifyMountedFlist("/var/lib/zos/mnt/7-12-vm", meta.bytes <= 64 * 2 ** 20 ? "all" : ["/start.sh"]);
 * ```
 */
import { lstat, open, readdir } from "node:fs/promises";
import { join } from "node:path";

export class FlistVerificationError extends Error {}

async function readAll(path: string, shown: string): Promise<void> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    while ((await fh.read(buf, 0, buf.length, null)).bytesRead > 0) {
      // reading is the check: the mount verifies each block it serves
    }
  } catch (e) {
    const code = (e as { code?: string }).code ?? "";
    throw new FlistVerificationError(`reading ${shown} failed (${code || String(e)}): a block of the image does not match its hash or cannot be fetched`);
  } finally {
    await fh.close();
  }
}

/** Every regular file under `root` (directory entries only: no stat through the mount). */
async function allFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  }
  return out;
}

export async function verifyMountedFlist(mountpoint: string, read: "all" | readonly string[]): Promise<void> {
  const files = read === "all" ? await allFiles(mountpoint) : read.map((p) => join(mountpoint, p));
  for (const f of files) {
    const st = await lstat(f).catch(() => undefined);
    if (!st?.isFile()) continue;
    await readAll(f, f.slice(mountpoint.length) || "/");
  }
}
