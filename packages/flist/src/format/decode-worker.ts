/**
 * Worker thread of DecodePool: verifies the blocks posted to it (in batches) and answers each one
 * with the plaintext length or the reason of the failure. Loads only block-decode-core.ts (fast start).
 *
 * @example
 * ```ts
 * new Worker(new URL("./decode-worker.ts", import.meta.url)); // see decode-pool.ts
 * ```
 */
import { parentPort } from "node:worker_threads";
import { tryVerifyBlock } from "./block-decode-core.ts";

const port = parentPort;
// Requests come in batches (decode-pool.ts); each is answered as soon as it is verified.
port?.on("message", (batch: { seq: number; id: Uint8Array; key: Uint8Array; data: Uint8Array }[]) => {
  for (const m of batch) {
    try {
      const r = tryVerifyBlock(m.id, m.key, m.data);
      port.postMessage("reason" in r ? { seq: m.seq, error: r.reason, integrity: true } : { seq: m.seq, bytes: r.bytes });
    } catch (e) {
      port.postMessage({ seq: m.seq, error: (e as Error).message, integrity: false });
    }
  }
});
