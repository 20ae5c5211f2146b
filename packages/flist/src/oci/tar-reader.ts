/**
 * A small streaming tar reader that keeps names, link targets and PAX values as raw bytes
 * (ustar, PAX `x` records, GNU long names). tar-stream decodes PAX records as UTF-8, which
 * corrupts non-UTF-8 names and binary xattrs; image layers need them exact. Header checksums and
 * sizes are checked, so junk or truncated input fails clearly.
 *
 * @example
 * ```ts
 * for await (const { entry, body } of readTar(stream)) await body((chunk) => write(chunk));
 * ```
 */
import type { Readable } from "node:stream";

export type TarType = "file" | "link" | "symlink" | "char" | "block" | "dir" | "fifo" | "other";

export interface TarEntry {
  name: Buffer;
  linkname: Buffer;
  type: TarType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch (fractional from PAX). */
  mtime: number;
  devmajor: number;
  devminor: number;
  /** PAX records of this entry (raw values). */
  pax: Map<string, Buffer>;
}

/** Largest entry accepted: larger declared sizes are refused as absurd. */
const MAX_ENTRY = 64 * 2 ** 30;

class ByteReader {
  readonly #it: AsyncIterator<Buffer>;
  #buf: Buffer = Buffer.alloc(0);
  #done = false;

  constructor(stream: Readable) {
    this.#it = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  async #fill(): Promise<boolean> {
    if (this.#done) return false;
    const r = await this.#it.next();
    if (r.done) {
      this.#done = true;
      return false;
    }
    this.#buf = this.#buf.length === 0 ? Buffer.from(r.value) : Buffer.concat([this.#buf, r.value]);
    return true;
  }

  /** Exactly n bytes, or undefined at a clean end of stream (nothing buffered). */
  async read(n: number): Promise<Buffer | undefined> {
    while (this.#buf.length < n) {
      if (!(await this.#fill())) {
        if (this.#buf.length === 0) return undefined;
        throw new Error("unexpected end of tar data");
      }
    }
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  /** Passes n bytes to sink chunk by chunk. */
  async pipe(n: number, sink: (chunk: Buffer) => void): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.#buf.length === 0 && !(await this.#fill())) throw new Error("unexpected end of tar data");
      const take = Math.min(left, this.#buf.length);
      sink(this.#buf.subarray(0, take));
      this.#buf = this.#buf.subarray(take);
      left -= take;
    }
  }
}

function field(h: Buffer, start: number, len: number): Buffer {
  const f = h.subarray(start, start + len);
  const nul = f.indexOf(0);
  return nul >= 0 ? f.subarray(0, nul) : f;
}

function octal(h: Buffer, start: number, len: number): number {
  const f = h.subarray(start, start + len);
  if (f[0]! & 0x80) {
    // base-256 (GNU) for large values
    let n = 0;
    for (let i = 1; i < f.length; i++) n = n * 256 + f[i]!;
    return n;
  }
  const s = field(h, start, len).toString("latin1").trim();
  return s === "" ? 0 : parseInt(s, 8);
}

function parsePax(data: Buffer, into: Map<string, Buffer>): void {
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(data.subarray(i, sp).toString("latin1"), 10);
    if (!Number.isFinite(len) || len <= 0 || i + len > data.length) throw new Error("malformed PAX record");
    const rec = data.subarray(sp + 1, i + len - 1); // drop trailing \n
    const eq = rec.indexOf(0x3d);
    if (eq > 0) into.set(rec.subarray(0, eq).toString("utf8"), Buffer.from(rec.subarray(eq + 1)));
    i += len;
  }
}

const TYPES: Record<string, TarType> = { "0": "file", "\0": "file", "7": "file", "1": "link", "2": "symlink", "3": "char", "4": "block", "5": "dir", "6": "fifo" };

export async function* readTar(stream: Readable): AsyncGenerator<{ entry: TarEntry; body(sink: (chunk: Buffer) => void): Promise<void> }> {
  const r = new ByteReader(stream);
  let pax = new Map<string, Buffer>();
  let longName: Buffer | undefined;
  let longLink: Buffer | undefined;
  while (true) {
    const h = await r.read(512);
    if (!h) throw new Error("tar ended without its end-of-archive blocks");
    if (h.every((b) => b === 0)) return;
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (sum !== octal(h, 148, 8)) throw new Error("bad tar header checksum (not a tar, or corrupt)");
    const size = octal(h, 124, 12);
    if (size > MAX_ENTRY) throw new Error(`absurd tar entry size ${size}`);
    const flag = String.fromCharCode(h[156]!);
    const padded = Math.ceil(size / 512) * 512;
    if (flag === "x" || flag === "g" || flag === "L" || flag === "K") {
      if (size > 16 * 2 ** 20) throw new Error(`absurd tar metadata record of ${size} bytes`);
      const data = (await r.read(padded))!.subarray(0, size);
      if (flag === "x") parsePax(data, pax);
      else if (flag === "L") longName = Buffer.from(field(data, 0, data.length));
      else if (flag === "K") longLink = Buffer.from(field(data, 0, data.length));
      continue;
    }
    const ustar = h.subarray(257, 262).toString("latin1") === "ustar";
    const prefix = ustar ? field(h, 345, 155) : Buffer.alloc(0);
    let name = Buffer.from(field(h, 0, 100));
    if (prefix.length > 0) name = Buffer.concat([prefix, Buffer.from("/"), name]);
    const entry: TarEntry = {
      name: pax.get("path") ?? longName ?? name,
      linkname: pax.get("linkpath") ?? longLink ?? Buffer.from(field(h, 157, 100)),
      type: TYPES[flag] ?? "other",
      mode: octal(h, 100, 8),
      uid: pax.has("uid") ? Number(pax.get("uid")!.toString()) : octal(h, 108, 8),
      gid: pax.has("gid") ? Number(pax.get("gid")!.toString()) : octal(h, 116, 8),
      size: pax.has("size") ? Number(pax.get("size")!.toString()) : size,
      mtime: pax.has("mtime") ? Number(pax.get("mtime")!.toString()) : octal(h, 136, 12),
      devmajor: octal(h, 329, 8),
      devminor: octal(h, 337, 8),
      pax,
    };
    if (!Number.isFinite(entry.size) || entry.size < 0 || entry.size > MAX_ENTRY) throw new Error(`absurd tar entry size ${entry.size}`);
    pax = new Map();
    longName = undefined;
    longLink = undefined;
    const dataSize = entry.type === "file" ? entry.size : size;
    let consumed = false;
    yield {
      entry,
      body: async (sink) => {
        consumed = true;
        await r.pipe(dataSize, sink);
        await r.pipe(Math.ceil(dataSize / 512) * 512 - dataSize, () => undefined);
      },
    };
    if (!consumed) await r.pipe(Math.ceil(dataSize / 512) * 512, () => undefined);
  }
}
