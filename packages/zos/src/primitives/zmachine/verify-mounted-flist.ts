/**
 * Reads a freshly mounted flist before a VM boots from it. Every block read through the mount is
 * re-hashed by @zgrid/flist, so a tampered block fails this read with EIO and the zmachine is
 * refused with a message naming the file — instead of a VM that dies later on an I/O error.
 * Small images (up to `wholeLimitBytes`) are read entirely, which also warms the cache for boot;
 * larger ones have their entrypoint read, and the rest is verified lazily on every read.
 *
 * @example
 * ```ts
 * await verifyMountedFlist("/var/lib/zos/mnt/7-12-vm", ["/start.sh"], 64 * 2 ** 20);
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

async function treeSize(root: string, limit: number): Promise<{ files: string[]; bytes: number } | undefined> {
  const files: string[] = [];
  let bytes = 0;
  const walk = async (dir: string): Promise<boolean> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (!(await walk(p))) return false;
      } else if (e.isFile()) {
        bytes += (await lstat(p)).size;
        if (bytes > limit) return false;
        files.push(p);
      }
    }
    return true;
  };
  return (await walk(root)) ? { files, bytes } : undefined;
}

export async function verifyMountedFlist(mountpoint: string, mustRead: readonly string[], wholeLimitBytes: number): Promise<void> {
  const whole = await treeSize(mountpoint, wholeLimitBytes);
  const files = whole ? whole.files : mustRead.map((p) => join(mountpoint, p));
  for (const f of files) {
    const st = await lstat(f).catch(() => undefined);
    if (!st?.isFile()) continue;
    await readAll(f, f.slice(mountpoint.length) || "/");
  }
}
