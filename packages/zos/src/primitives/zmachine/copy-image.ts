/**
 * Copies a full-VM image out of a mounted flist onto the VM's own disk: opened with O_NOFOLLOW
 * and checked to be a regular file (no link is ever followed to the host), sparse (all-zero
 * 1 MiB chunks are skipped, the size set at the end), and abortable between chunks.
 *
 * @example
 * ```ts
 * await copyImage("/var/lib/zos/mnt/7-12-vm/image.raw", "/var/lib/zos/vms/7-12-vm/image.img", signal);
 * ```
 */
import { constants } from "node:fs";
import { open } from "node:fs/promises";

const CHUNK = 1 << 20;

export async function copyImage(from: string, to: string, signal?: AbortSignal): Promise<void> {
  const src = await open(from, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const st = await src.stat();
    if (!st.isFile()) throw new Error("/image.raw of the flist is not a regular file");
    const dst = await open(to, "w");
    try {
      const buf = Buffer.alloc(CHUNK);
      for (let pos = 0; pos < st.size;) {
        signal?.throwIfAborted();
        const { bytesRead } = await src.read(buf, 0, CHUNK, pos);
        if (bytesRead === 0) break;
        const chunk = buf.subarray(0, bytesRead);
        if (chunk.some((b) => b !== 0)) await dst.write(chunk, 0, bytesRead, pos);
        pos += bytesRead;
      }
      await dst.truncate(st.size);
    } finally {
      await dst.close();
    }
  } finally {
    await src.close();
  }
}
