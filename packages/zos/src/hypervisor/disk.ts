/**
 * Disk helpers: a sparse raw file formatted ext4 on the host. An existing file is never reformatted
 * or truncated, so zmount data survives VM and daemon restarts.
 *
 * @example
 * ```ts
 * const created = await ensureExt4Disk("/var/zos/disks/data.img", 10 * 1024 ** 3); // true on first call
 * ```
 */
import { open, mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { runHost } from "./host-command.ts";

export async function fileExists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** Creates `path` (sparse, `sizeBytes`, ext4) unless it exists. Returns true if it was created. */
export async function ensureExt4Disk(path: string, sizeBytes: number): Promise<boolean> {
  if (await fileExists(path)) return false;
  await mkdir(dirname(path), { recursive: true });
  // Format a temp file and rename it in place, so a crash never leaves a half-made disk that a
  // later start would take for an existing (and therefore never reformatted) one.
  const tmp = `${path}.new-${process.pid}`;
  try {
    const fh = await open(tmp, "w");
    await fh.truncate(sizeBytes);
    await fh.close();
    await runHost("mkfs.ext4", ["-q", "-F", "-m", "0", "-E", "lazy_itable_init=1,lazy_journal_init=1", tmp], { timeoutMs: 120_000 });
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return true;
}

/** An existing raw image (own-kernel/full VMs): grown sparse to `sizeBytes` if smaller, never shrunk. */
export async function ensureImageSize(path: string, sizeBytes: number): Promise<void> {
  const st = await stat(path);
  if (st.size < sizeBytes) {
    const fh = await open(path, "r+");
    try {
      await fh.truncate(sizeBytes);
    } finally {
      await fh.close();
    }
  }
}

/** Removes a disk file; a missing file is fine. */
export async function removeDisk(path: string): Promise<void> {
  await rm(path, { force: true });
}
