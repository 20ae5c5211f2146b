/**
 * Frames on a bus stream: `varint(bodyLength) | kind (1 byte) | varint(requestId) | rest`.
 * The request id sits in front of the JSON so a receiver can answer a frame it refuses to read
 * (oversize) with a typed error for that very request, while skipping its bytes without
 * buffering them. Garbage never throws past `push` except as a FrameError (stream is unusable).
 *
 * @example
 * ```ts
 * const bytes = encodeFrame(FRAME_KIND.response, 7, [utf8.encode("{}")]);
 * const decoder = new FrameDecoder({ maxBodyBytes: 1 << 20 });
 * for (const frame of decoder.push(bytes)) frame.kind; // 2
 * ```
 */
import { Uint8ArrayList } from "uint8arraylist";

/**
 * `request`: auth block + envelope (wire/request-auth.ts). `sessionRequest`: the envelope alone,
 * accepted only on a stream whose session a signed request of the same twin opened (README).
 */
export const FRAME_KIND = { request: 1, response: 2, error: 3, sessionRequest: 4 } as const;

export interface DecodedFrame {
  type: "frame";
  kind: number;
  id: number;
  /** Bytes after the id. */
  rest: Uint8Array;
}

/** A frame over the size limit: its bytes are skipped, only kind and id were read. */
export interface OversizeFrame {
  type: "oversize";
  kind: number;
  id: number;
  bodyBytes: number;
}

/** The byte stream cannot be framed any more (broken length prefix). */
export class FrameError extends Error {}

const MAX_VARINT_BYTES = 7; // up to 2^49: more than any sane length or id

/** Appends `value` as an unsigned LEB128 varint. */
function writeVarint(out: number[], value: number): void {
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

/** Reads a varint at `offset`; undefined when more bytes are needed. */
function readVarint(list: Uint8ArrayList, offset: number): { value: number; bytes: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (offset + i >= list.byteLength) return undefined;
    const byte = list.get(offset + i);
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return { value, bytes: i + 1 };
    scale *= 0x80;
  }
  throw new FrameError("varint too long");
}

/** Encodes one frame into a single buffer (one write on the stream). */
export function encodeFrame(kind: number, id: number, parts: Uint8Array[]): Uint8Array {
  const head: number[] = [kind];
  writeVarint(head, id);
  const bodyLength = head.length + parts.reduce((n, p) => n + p.byteLength, 0);
  const prefix: number[] = [];
  writeVarint(prefix, bodyLength);
  const out = new Uint8Array(prefix.length + bodyLength);
  out.set(prefix, 0);
  out.set(head, prefix.length);
  let at = prefix.length + head.length;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

export class FrameDecoder {
  readonly #maxBodyBytes: () => number;
  readonly #buffer = new Uint8ArrayList();
  /** Bytes of an oversize frame still to skip. */
  #skipping = 0;

  /**
   * `maxBodyBytes` may be a function: the limit is read for each frame header, so a receiver
   * can hold strangers to a small frame size and raise it once the peer proved who it is.
   */
  constructor(options: { maxBodyBytes: number | (() => number) }) {
    const max = options.maxBodyBytes;
    this.#maxBodyBytes = typeof max === "number" ? () => max : max;
  }

  /** Bytes held for a frame not yet complete (never more than the limit plus a header). */
  get bufferedBytes(): number {
    return this.#buffer.byteLength;
  }

  /** Feeds received bytes; returns the frames they complete. Throws FrameError on a broken stream. */
  push(chunk: Uint8Array | Uint8ArrayList): Array<DecodedFrame | OversizeFrame> {
    const frames: Array<DecodedFrame | OversizeFrame> = [];
    this.#buffer.append(chunk);
    while (true) {
      if (this.#skipping > 0) {
        const n = Math.min(this.#skipping, this.#buffer.byteLength);
        this.#buffer.consume(n);
        this.#skipping -= n;
        if (this.#skipping > 0) return frames;
      }
      const length = readVarint(this.#buffer, 0);
      if (!length) return frames;
      const kind = length.bytes < this.#buffer.byteLength ? this.#buffer.get(length.bytes) : undefined;
      const id = kind === undefined ? undefined : readVarint(this.#buffer, length.bytes + 1);
      if (length.value > this.#maxBodyBytes()) {
        // Read only the header, then skip the body as it arrives.
        if (!id) return frames;
        const header = length.bytes + 1 + id.bytes;
        const skip = length.bytes + length.value;
        const n = Math.min(skip, this.#buffer.byteLength);
        this.#buffer.consume(n);
        this.#skipping = skip - n;
        frames.push({ type: "oversize", kind: kind!, id: id.value, bodyBytes: length.value });
        if (header > skip) throw new FrameError("frame shorter than its header");
        continue;
      }
      if (this.#buffer.byteLength < length.bytes + length.value) return frames;
      if (!id || 1 + id.bytes > length.value) throw new FrameError("frame shorter than its header");
      const start = length.bytes + 1 + id.bytes;
      const rest = this.#buffer.subarray(start, length.bytes + length.value);
      this.#buffer.consume(length.bytes + length.value);
      frames.push({ type: "frame", kind: kind!, id: id.value, rest });
    }
  }
}
