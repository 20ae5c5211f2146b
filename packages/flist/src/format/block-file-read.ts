/**
 * Reads a stored block from a local file straight into a buffer the caller reuses: open, fstat,
 * read, close on the calling thread (a decode worker), no thread-pool hop, no fresh allocation per
 * block (a new 300 KiB buffer costs its page faults on first touch). Verify's workers read their
 * blocks this way instead of receiving the bytes from the caller's thread (decode-pool.ts).
 *
 * Bounded: a file larger than any encoded block can be (`MAX_STORED_BLOCK`) is not read.
 *
 * @example
 * ```ts
 * const reader = new BlockFileReader();
 * const r = reader.read(["/store/ab12…", "/store/ab/ab12…"]); // the first that opens
 * if (r.kind === "read") verify(r.data);                     // valid until the next read
 * ```
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { MAX_PLAIN_BLOCK } from "./block-decode-core.ts";

/** The largest encoded block: Snappy's worst case for MAX_PLAIN_BLOCK (32 + n + n/6) and GCM's tag. */
export const MAX_STORED_BLOCK = 32 + MAX_PLAIN_BLOCK + Math.ceil(MAX_PLAIN_BLOCK / 6) + 16;

export type BlockFileResult =
  | { kind: "read"; data: Buffer }
  /** No path could be opened (absent, unreadable): the caller asks the store itself. */
  | { kind: "absent" }
  | { kind: "too-large"; size: number };

export class BlockFileReader {
  #buf = Buffer.allocUnsafeSlow(1 << 20);

  /** The first of `paths` that opens, read whole into the reused buffer. */
  read(paths: readonly string[]): BlockFileResult {
    for (const path of paths) {
      let fd: number;
      try {
        fd = openSync(path, "r");
      } catch {
        continue;
      }
      try {
        const size = fstatSync(fd).size;
        if (size > MAX_STORED_BLOCK) return { kind: "too-large", size };
        if (size > this.#buf.length) this.#buf = Buffer.allocUnsafeSlow(Math.max(size, 2 * this.#buf.length));
        let off = 0;
        while (off < size) {
          const n = readSync(fd, this.#buf, off, size - off, off);
          if (n === 0) break; // shrank under us: verify sees the short block and refuses it
          off += n;
        }
        return { kind: "read", data: this.#buf.subarray(0, off) };
      } catch {
        return { kind: "absent" };
      } finally {
        closeSync(fd);
      }
    }
    return { kind: "absent" };
  }
}
