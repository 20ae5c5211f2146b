/**
 * Verifies blocks on every core: a pool of worker threads runs `tryVerifyBlock` (BLAKE2b of the
 * ciphertext against the id, AES-256-GCM's tag, a walk of the Snappy stream). Blocks of a local
 * dir:// store are read by the worker itself (`verifyFile`: the caller's thread sends only the
 * paths); other blocks are read by the caller and transferred to the worker (no copy when the
 * buffer owns its memory). `size: 0` runs inline on the caller's thread (the single-core baseline).
 *
 * A worker costs ~0.2 CPU-s to start (type stripping, hash-wasm, snappy) and runs its wasm slowly
 * until V8 has tiered it up, so `sharedDecodePool()` keeps one pool per process, started on first
 * use and closed after `idleMs` without work (so an idle daemon holds no workers). Workers keep
 * the process alive only while a job is in flight.
 *
 * @example
 * ```ts
 * const pool = sharedDecodePool();
 * const { bytes } = await pool.verify(id, key, data); // throws BlockIntegrityError
 * await pool.verifyFile(id, key, store.localPaths(id)); // the worker reads; undefined: not found
 * ```
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { BlockIntegrityError } from "../errors/flist-errors.ts";
import { tryVerifyBlock } from "./block-decode-core.ts";
import { toHex } from "./hash.ts";

interface Job {
  worker: number;
  /** The plaintext length, or undefined: the worker could not read the block's files. */
  resolve(bytes: number | undefined): void;
  reject(e: Error): void;
}

type Reply = { seq: number; bytes: number } | { seq: number; unread: true } | { seq: number; error: string; integrity: boolean };
/** The block's bytes (transferred), or the local files the worker reads it from. */
type RequestBody = { id: Uint8Array; key: Uint8Array } & ({ data: Uint8Array } | { paths: string[] });
type Request = RequestBody & { seq: number };

export interface DecodePoolOptions {
  /** Close the workers after this long without a job (default: never; the shared pool: 30 s). */
  idleMs?: number;
}

export class DecodePool {
  readonly size: number;
  readonly #workers: (Worker | undefined)[] = [];
  readonly #jobs = new Map<number, Job>();
  readonly #load: number[] = [];
  /** Requests queued per worker until the next flush (one message per worker per loop turn). */
  readonly #outbox: Request[][] = [];
  #flushing = false;
  readonly #idleMs: number | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #inFlight = 0;
  #seq = 0;

  constructor(size: number, options: DecodePoolOptions = {}) {
    this.size = Math.max(0, Math.floor(size));
    this.#idleMs = options.idleMs;
    for (let i = 0; i < this.size; i++) {
      this.#workers.push(undefined);
      this.#load.push(0);
      this.#outbox.push([]);
    }
  }

  /** Verifies one block; resolves with its plaintext length. Throws BlockIntegrityError. */
  async verify(id: Uint8Array, key: Uint8Array, data: Uint8Array): Promise<{ bytes: number }> {
    if (this.size === 0) {
      const r = tryVerifyBlock(id, key, data);
      if ("reason" in r) throw new BlockIntegrityError(toHex(id), r.reason, r.cause ? { cause: r.cause } : {});
      return r;
    }
    const owned = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
    const bytes = await this.#post({ id, key, data: owned ? data : new Uint8Array(data) });
    if (bytes === undefined) throw new Error("decode worker answered a block it was given as unread");
    return { bytes };
  }

  /**
   * Verifies a block a worker reads itself from the first of `paths` that opens (a dir:// store's
   * files, BlockStore.localPaths): the caller's thread neither reads nor copies it. Resolves with
   * the plaintext length, or undefined when no path could be read (or the pool has no workers):
   * then get the bytes from the store and call `verify`. Throws BlockIntegrityError.
   */
  async verifyFile(id: Uint8Array, key: Uint8Array, paths: string[]): Promise<{ bytes: number } | undefined> {
    if (this.size === 0 || paths.length === 0) return undefined;
    const bytes = await this.#post({ id, key, paths });
    return bytes === undefined ? undefined : { bytes };
  }

  // Queues one request to the least loaded worker; resolves with the worker's answer.
  async #post(request: RequestBody): Promise<number | undefined> {
    let i = 0;
    for (let k = 1; k < this.#load.length; k++) if (this.#load[k]! < this.#load[i]!) i = k;
    this.#worker(i);
    this.#started();
    this.#load[i]!++;
    const seq = this.#seq++;
    try {
      return await new Promise<number | undefined>((resolve, reject) => {
        this.#jobs.set(seq, { worker: i, resolve, reject });
        this.#outbox[i]!.push({ seq, ...request });
        if (!this.#flushing) {
          this.#flushing = true;
          setImmediate(() => this.#flush());
        }
      });
    } catch (e) {
      if (e instanceof BlockIntegrityError) throw new BlockIntegrityError(toHex(request.id), String(e.details.reason));
      throw e;
    } finally {
      this.#load[i]!--;
      this.#finished();
    }
  }

  /** Worker threads running now (started on first use, 0 after close or the idle time). */
  get running(): number {
    return this.#workers.filter((w) => w !== undefined).length;
  }

  /** Terminates the workers; a later verify starts new ones. */
  async close(): Promise<void> {
    clearTimeout(this.#idleTimer);
    const workers = this.#workers.splice(0, this.#workers.length, ...this.#workers.map(() => undefined));
    await Promise.all(workers.flatMap((w) => (w ? [w.terminate()] : [])));
  }

  // Blocks whose reads completed in the same event-loop turn go to a worker in one message; the
  // worker answers each as soon as it is done (so the next read starts while it works on the rest).
  #flush(): void {
    this.#flushing = false;
    this.#outbox.forEach((batch, i) => {
      if (batch.length === 0) return;
      this.#outbox[i] = [];
      this.#worker(i).postMessage(batch, batch.flatMap((r) => ("data" in r ? [r.data.buffer as ArrayBuffer] : [])));
    });
  }

  #worker(i: number): Worker {
    const existing = this.#workers[i];
    if (existing) return existing;
    const w = new Worker(new URL("./decode-worker.ts", import.meta.url));
    w.unref();
    w.on("message", (m: Reply) => {
      const job = this.#jobs.get(m.seq);
      this.#jobs.delete(m.seq);
      if (!job) return;
      if ("bytes" in m) job.resolve(m.bytes);
      else if ("unread" in m) job.resolve(undefined);
      else job.reject(m.integrity ? new BlockIntegrityError("?", m.error) : new Error(m.error));
    });
    const fail = (e: Error): void => {
      if (this.#workers[i] === w) this.#workers[i] = undefined;
      this.#outbox[i] = [];
      for (const [seq, job] of this.#jobs) {
        if (job.worker !== i) continue;
        this.#jobs.delete(seq);
        job.reject(e);
      }
    };
    w.on("error", fail);
    w.on("exit", (code) => fail(new Error(`decode worker exited (code ${code})`)));
    this.#workers[i] = w;
    return w;
  }

  // Workers hold the event loop open only while a job is in flight.
  #started(): void {
    clearTimeout(this.#idleTimer);
    if (this.#inFlight++ === 0) for (const w of this.#workers) w?.ref();
  }

  #finished(): void {
    if (--this.#inFlight > 0) return;
    for (const w of this.#workers) w?.unref();
    if (this.#idleMs === undefined) return;
    this.#idleTimer = setTimeout(() => void this.close(), this.#idleMs);
    this.#idleTimer.unref();
  }
}

let shared: DecodePool | undefined;

/** The process-wide pool: every core (at most 8), workers closed after 30 s without work. */
export function sharedDecodePool(): DecodePool {
  shared ??= new DecodePool(Math.min(8, availableParallelism()), { idleMs: 30_000 });
  return shared;
}
