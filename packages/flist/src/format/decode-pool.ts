/**
 * Verifies blocks on every core: a pool of worker threads runs `decodeBlock` (BLAKE2b of the
 * ciphertext, AES-256-GCM, snappy, BLAKE2b of the plaintext). The caller's thread only does I/O;
 * block bytes are transferred to the worker (no copy when the buffer owns its memory). `size: 0`
 * runs inline on the caller's thread (the single-core baseline).
 *
 * @example
 * ```ts
 * const pool = new DecodePool(availableParallelism());
 * const { bytes } = await pool.verify(id, key, data); // throws BlockIntegrityError
 * await pool.close();
 * ```
 */
import { Worker } from "node:worker_threads";
import { BlockIntegrityError } from "../errors/flist-errors.ts";
import { decodeBlock } from "./block-codec.ts";
import { toHex } from "./hash.ts";

interface Job {
  resolve(bytes: number): void;
  reject(e: Error): void;
}

type Reply = { seq: number; bytes: number } | { seq: number; error: string; integrity: boolean };


export class DecodePool {
  readonly size: number;
  readonly #workers: Worker[] = [];
  readonly #jobs = new Map<number, Job>();
  readonly #load: number[] = [];
  #seq = 0;

  constructor(size: number) {
    this.size = Math.max(0, Math.floor(size));
    for (let i = 0; i < this.size; i++) {
      const w = new Worker(new URL("./decode-worker.ts", import.meta.url));
      this.#load.push(0);
      w.on("message", (m: Reply) => {
        this.#load[i]!--;
        const job = this.#jobs.get(m.seq);
        this.#jobs.delete(m.seq);
        if (!job) return;
        if ("bytes" in m) job.resolve(m.bytes);
        else job.reject(m.integrity ? new BlockIntegrityError("?", m.error) : new Error(m.error));
      });
      w.on("error", (e) => {
        for (const job of this.#jobs.values()) job.reject(e);
        this.#jobs.clear();
      });
      this.#workers.push(w);
    }
  }

  /** Verifies one block; resolves with its plaintext length. Throws BlockIntegrityError. */
  async verify(id: Uint8Array, key: Uint8Array, data: Uint8Array): Promise<{ bytes: number }> {
    if (this.size === 0) return { bytes: decodeBlock(id, key, data).length };
    let i = 0;
    for (let k = 1; k < this.#load.length; k++) if (this.#load[k]! < this.#load[i]!) i = k;
    this.#load[i]!++;
    const seq = this.#seq++;
    const owned = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
    const copy = owned ? data : new Uint8Array(data);
    const bytes = await new Promise<number>((resolve, reject) => {
      this.#jobs.set(seq, { resolve, reject });
      this.#workers[i]!.postMessage({ seq, id, key, data: copy }, [copy.buffer as ArrayBuffer]);
    }).catch((e: unknown) => {
      if (e instanceof BlockIntegrityError) throw new BlockIntegrityError(toHex(id), String(e.details.reason));
      throw e;
    });
    return { bytes };
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
