/**
 * One 0-db namespace on disk: an append-only data file (zdb-log.ts) and an in-memory index
 * rebuilt from it on open (a torn tail left by a crash is truncated first). `user` mode: the
 * client names keys (1–255 bytes). `seq` mode: SET with an empty key appends under the next
 * sequential id (a 4-byte little-endian uint32, as 0-db), SET with an existing id updates it.
 * Durability: with `durable` (default) a write resolves only after an fdatasync that covers it;
 * the writes of one event-loop turn are written with one writev and share one fdatasync (group
 * commit, as redis-server's `appendfsync always` does per turn). The size limit counts live value bytes
 * (0-db's data_size_bytes); dead records are compacted away once they outweigh the live ones, so
 * the file stays under 2 × limit + one record.
 *
 * @example
 * ```ts
 * const ns = ZdbNamespace.open("/var/lib/zos/zdb/7-12-db", { name: "7-12-db", mode: "seq", sizeLimit: 1 << 30 });
 * const key = await ns.set(Buffer.alloc(0), Buffer.from("hello")); // <Buffer 00 00 00 00>
 * ns.get(key); // <Buffer 68 65 6c 6c 6f>
 * ns.close();
 * ```
 */
import { closeSync, fdatasync, fsyncSync, ftruncateSync, fstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { ZdbError, ZdbNoSpaceError, ZdbRequestError } from "./zdb-errors.ts";
import { encodeRecord, MAX_KEY_BYTES, MAX_VALUE_BYTES, OP_DEL, OP_SEQ, OP_SET, placeOf, scanLog, type RecordPlace } from "./zdb-log.ts";

export type ZdbMode = "user" | "seq";

export interface NamespaceOptions {
  name: string;
  mode: ZdbMode;
  /** Live value bytes allowed (0-db's data_limits_bytes). */
  sizeLimit: number;
  /** fdatasync before a write is acknowledged (default true). */
  durable?: boolean;
}

interface Entry {
  place: RecordPlace;
  time: number;
}

export interface ScanItem {
  key: Buffer;
  size: number;
  time: number;
}

const SCAN_PAGE = 100;

/** A failed append as the client should read it: what happened, that nothing was stored, what to do. */
function writeFailure(e: unknown): ZdbError {
  const code = (e as { code?: string }).code;
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new ZdbNoSpaceError("No space left on the node's disk: this write was not stored (every acknowledged write is kept); delete keys or retry once the node has space", { cause: e });
  }
  return new ZdbError(`the node could not write this namespace's data (${code ?? String(e)}): this write was not stored; retry later`, { cause: e });
}

export class ZdbNamespace {
  readonly name: string;
  readonly mode: ZdbMode;
  sizeLimit: number;
  private readonly dir: string;
  private readonly durable: boolean;
  private fd: number;
  /** Logical end of the data file, including records appended but not yet written. */
  private fileSize: number;
  /** Bytes of the data file actually written; records past it wait in `pending`. */
  private writtenSize: number;
  private pending: Buffer[] = [];
  private flushScheduled = false;
  private readonly index = new Map<string, Entry>();
  private liveBytes = 0;
  private nextSeq = 0;
  private waiting: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private syncing = false;
  /** Repairs done on open (for logs and tests). */
  readonly recovered: { truncatedBytes: number };

  private constructor(dir: string, o: NamespaceOptions) {
    this.dir = dir;
    this.name = o.name;
    this.mode = o.mode;
    this.sizeLimit = o.sizeLimit;
    this.durable = o.durable ?? true;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.fd = openSync(this.dataPath, "a+", 0o600);
    const size = fstatSync(this.fd).size;
    const { validBytes, torn } = scanLog(this.fd, size, (r, place) => this.apply(r.op, Buffer.from(r.key), r.value, r.time, place));
    this.recovered = { truncatedBytes: size - validBytes };
    if (torn) {
      ftruncateSync(this.fd, validBytes);
      fsyncSync(this.fd);
    }
    this.fileSize = validBytes;
    this.writtenSize = validBytes;
  }

  static open(dir: string, o: NamespaceOptions): ZdbNamespace {
    return new ZdbNamespace(dir, o);
  }

  private get dataPath(): string {
    return join(this.dir, "data.log");
  }

  private apply(op: number, key: Buffer, value: Buffer, time: number, place: RecordPlace): void {
    if (op === OP_SEQ) {
      this.nextSeq = Math.max(this.nextSeq, value.readUInt32LE(0));
      return;
    }
    if (this.mode === "seq" && key.length === 4) this.nextSeq = Math.max(this.nextSeq, key.readUInt32LE(0) + 1);
    const k = key.toString("latin1");
    const old = this.index.get(k);
    if (old) {
      this.liveBytes -= old.place.valueLength;
      this.index.delete(k); // re-inserted below: Map order = write order, which SCAN follows
    }
    if (op === OP_SET) {
      this.index.set(k, { place, time });
      this.liveBytes += value.length;
    }
  }

  get entries(): number {
    return this.index.size;
  }

  get dataSize(): number {
    return this.liveBytes;
  }

  get diskSize(): number {
    return this.fileSize;
  }

  get(key: Buffer): Buffer | undefined {
    const e = this.index.get(key.toString("latin1"));
    if (!e) return undefined;
    if (e.place.offset + e.place.length > this.writtenSize) this.writePending();
    const out = Buffer.allocUnsafe(e.place.valueLength);
    if (out.length) readSync(this.fd, out, 0, out.length, e.place.valueOffset);
    return out;
  }

  /**
   * The value as a RESP bulk reply (`$<len>\r\n<value>\r\n`), read from the file straight into
   * the reply (one allocation, no copy: GET's hot path); undefined when the key does not exist.
   */
  getBulk(key: Buffer): Buffer | undefined {
    const e = this.index.get(key.toString("latin1"));
    if (!e) return undefined;
    if (e.place.offset + e.place.length > this.writtenSize) this.writePending();
    const len = e.place.valueLength;
    const head = `$${len}\r\n`;
    const out = Buffer.allocUnsafe(head.length + len + 2);
    out.write(head, 0, "latin1");
    if (len) readSync(this.fd, out, head.length, len, e.place.valueOffset);
    out[head.length + len] = 13;
    out[head.length + len + 1] = 10;
    return out;
  }

  exists(key: Buffer): boolean {
    return this.index.has(key.toString("latin1"));
  }

  /**
   * Stores a value; returns the key (the new id in seq mode), or null when the key already held
   * exactly this value (0-db answers nil then and writes nothing).
   */
  async set(key: Buffer, value: Buffer): Promise<Buffer | null> {
    if (value.length > MAX_VALUE_BYTES) throw new ZdbRequestError(`value of ${value.length} bytes is too large: at most ${MAX_VALUE_BYTES} bytes (8 MiB)`);
    if (this.mode === "seq") {
      if (key.length === 0) {
        if (this.nextSeq > 0xffffffff) throw new ZdbNoSpaceError("sequential ids exhausted in this namespace");
        key = Buffer.alloc(4);
        key.writeUInt32LE(this.nextSeq);
      } else if (key.length !== 4 || !this.exists(key)) {
        throw new ZdbRequestError("Invalid key, only update authorized: in seq mode SET an empty key to append, or an existing 4-byte id to update it");
      }
    } else if (key.length === 0 || key.length > MAX_KEY_BYTES) {
      throw new ZdbRequestError(`invalid key of ${key.length} bytes: keys are 1 to ${MAX_KEY_BYTES} bytes in user mode`);
    }
    const k = key.toString("latin1");
    const old = this.index.get(k);
    if (old && old.place.valueLength === value.length && this.get(key)?.equals(value)) return null;
    const after = this.liveBytes - (old?.place.valueLength ?? 0) + value.length;
    if (after > this.sizeLimit) {
      throw new ZdbNoSpaceError(`No space left on this namespace: ${after} bytes would pass its limit of ${this.sizeLimit} bytes (${this.liveBytes} used); delete keys or grow the zdb workload's size`);
    }
    this.maybeCompact(key.length + value.length);
    this.append(OP_SET, key, value);
    await this.sync();
    return key;
  }

  /** Deletes a key; false when it did not exist. */
  async del(key: Buffer): Promise<boolean> {
    if (!this.exists(key)) return false;
    this.maybeCompact(key.length);
    this.append(OP_DEL, key, Buffer.alloc(0));
    await this.sync();
    return true;
  }

  /** One page of (key, size, time) in write order after `cursor` (a key returned earlier). */
  scan(cursor: Buffer | undefined, count = SCAN_PAGE): { items: ScanItem[]; next: Buffer | undefined } {
    const items: ScanItem[] = [];
    const after = cursor?.toString("latin1");
    let started = after === undefined;
    for (const [k, e] of this.index) {
      if (!started) {
        started = k === after;
        continue;
      }
      items.push({ key: Buffer.from(k, "latin1"), size: e.place.valueLength, time: e.time });
      if (items.length >= count) break;
    }
    const last = items.at(-1);
    return { items, next: last?.key };
  }

  private append(op: number, key: Buffer, value: Buffer): void {
    const time = Math.floor(Date.now() / 1000);
    const rec = encodeRecord({ op, key, value, time });
    const offset = this.fileSize;
    this.pending.push(rec);
    this.fileSize += rec.length;
    this.apply(op, key, value, time, placeOf(offset, key, value));
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.kick();
      });
    }
  }

  /**
   * Writes the records appended so far at the end of the file (one write). On a write error
   * (disk full, I/O error) the file is cut back to its last whole record and the index rebuilt
   * from it, so memory never claims what the disk does not hold; the error is thrown.
   */
  private writePending(): void {
    if (this.pending.length === 0) return;
    const data = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
    this.pending = [];
    try {
      for (let done = 0; done < data.length;) done += writeSync(this.fd, data, done, data.length - done, this.writtenSize + done);
      this.writtenSize += data.length;
    } catch (e) {
      ftruncateSync(this.fd, this.writtenSize);
      this.index.clear();
      this.liveBytes = 0;
      this.nextSeq = 0;
      scanLog(this.fd, this.writtenSize, (r, place) => this.apply(r.op, Buffer.from(r.key), r.value, r.time, place));
      this.fileSize = this.writtenSize;
      // the writes waiting for a sync may be among the lost ones: none of them is acknowledged
      const err = writeFailure(e);
      const failed = this.waiting;
      this.waiting = [];
      for (const w of failed) w.reject(err);
      throw err;
    }
  }

  /**
   * Resolves once every record appended so far is on disk: the writes of this event-loop turn are
   * written together, then one fdatasync covers them all.
   */
  private sync(): Promise<void> {
    if (!this.durable) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
    });
  }

  /** Writes what is pending, then (unless one runs) starts the fdatasync for every waiting write. */
  private kick(): void {
    if (this.syncing) return;
    try {
      this.writePending();
    } catch {
      return; // the waiting writes were rejected with the error
    }
    if (this.waiting.length === 0) return;
    this.syncing = true;
    const batch = this.waiting;
    this.waiting = [];
    fdatasync(this.fd, (err) => {
      this.syncing = false;
      for (const w of batch) {
        if (err) w.reject(err);
        else w.resolve();
      }
      this.kick();
    });
  }

  /** Rewrites only the live records when dead ones outweigh them (never during an fdatasync). */
  private maybeCompact(incoming: number): void {
    const dead = this.fileSize - this.liveBytes;
    if (this.syncing || this.fileSize + incoming < Math.max(this.sizeLimit, 1024 * 1024) * 2 || dead < this.liveBytes) return;
    this.compact();
  }

  /** Copies live records into a new file, fsyncs it and renames it over the old one. */
  compact(): void {
    this.writePending();
    const tmp = `${this.dataPath}.compact`;
    const out = openSync(tmp, "w", 0o600);
    const entries = [...this.index];
    let pos = 0;
    const places: RecordPlace[] = [];
    try {
      if (this.mode === "seq") {
        const v = Buffer.alloc(4);
        v.writeUInt32LE(this.nextSeq);
        const r = encodeRecord({ op: OP_SEQ, key: Buffer.alloc(0), value: v, time: Math.floor(Date.now() / 1000) });
        writeSync(out, r, 0, r.length, pos);
        pos += r.length;
      }
      for (const [k, e] of entries) {
        const key = Buffer.from(k, "latin1");
        const value = this.get(key) ?? Buffer.alloc(0);
        const r = encodeRecord({ op: OP_SET, key, value, time: e.time });
        writeSync(out, r, 0, r.length, pos);
        places.push(placeOf(pos, key, value));
        pos += r.length;
      }
      fsyncSync(out);
    } catch (e) {
      closeSync(out);
      rmSync(tmp, { force: true }); // the old file stays as it was
      throw writeFailure(e);
    }
    closeSync(out);
    renameSync(tmp, this.dataPath);
    const dirFd = openSync(this.dir, "r");
    fsyncSync(dirFd);
    closeSync(dirFd);
    closeSync(this.fd);
    this.fd = openSync(this.dataPath, "a+", 0o600);
    this.fileSize = pos;
    this.writtenSize = pos;
    entries.forEach(([, e], i) => {
      e.place = places[i] as RecordPlace;
    });
  }

  /** Waits for pending fdatasyncs, then closes the file. */
  async close(): Promise<void> {
    this.kick();
    while (this.syncing || this.waiting.length) await new Promise((r) => setTimeout(r, 1));
    closeSync(this.fd);
  }
}
