/**
 * Worker thread of DecodePool: verifies the blocks posted to it (in batches) and answers each one
 * with the plaintext length or the reason of the failure. A request carries either the block's
 * bytes or the local files it may be in (a dir:// store): those the worker reads itself into a
 * reused buffer (block-file-read.ts) and answers `unread` when none opens. Loads only
 * block-decode-core.ts and the file reader (fast start).
 *
 * @example
 * ```ts
 * new Worker(new URL("./decode-worker.ts", import.meta.url)); // see decode-pool.ts
 * ```
 */
import { parentPort } from "node:worker_threads";
import { tryVerifyBlock } from "./block-decode-core.ts";
import { BlockFileReader } from "./block-file-read.ts";

type Request = { seq: number; id: Uint8Array; key: Uint8Array } & ({ data: Uint8Array } | { paths: string[] });

const port = parentPort;
const files = new BlockFileReader();
// Requests come in batches (decode-pool.ts); each is answered as soon as it is verified.
port?.on("message", (batch: Request[]) => {
  for (const m of batch) {
    try {
      let data: Uint8Array;
      if ("data" in m) data = m.data;
      else {
        const r = files.read(m.paths);
        if (r.kind === "absent") {
          port.postMessage({ seq: m.seq, unread: true });
          continue;
        }
        if (r.kind === "too-large") {
          port.postMessage({ seq: m.seq, error: `stored block is ${r.size} bytes, larger than any block can be`, integrity: true });
          continue;
        }
        data = r.data;
      }
      const r = tryVerifyBlock(m.id, m.key, data);
      port.postMessage("reason" in r ? { seq: m.seq, error: r.reason, integrity: true } : { seq: m.seq, bytes: r.bytes });
    } catch (e) {
      port.postMessage({ seq: m.seq, error: (e as Error).message, integrity: false });
    }
  }
});
