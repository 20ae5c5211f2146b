/**
 * The frames spoken with the guest agent (packages/zos/guest/zagent.c) over its virtio-serial
 * port: `'Z' 'G' type:u8 len:u32be payload[len]`, len ≤ 64 KiB. Encoders for the host's frames
 * and a bounded decoder for the guest's (a bad frame is reported and skipped, never thrown).
 *
 * @example
 * ```ts
 * const bytes = encodeExec({ id: 1, timeoutMs: 5000, argv: ["ls", "/"], env: [], workdir: "/", user: "" });
 * const dec = new FrameDecoder();
 * for (const f of dec.push(chunk)) if (f.type === "x") console.log(parseExit(f.payload));
 * ```
 */

export const MAX_FRAME = 65_536;
const HDR = 7;
/** At most this many argv (and env) entries per exec, as the agent accepts. */
export const MAX_EXEC_ARGS = 256;

export interface Frame {
  type: string;
  payload: Buffer;
}

export function encodeFrame(type: string, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(HDR);
  h.write("ZG", 0, "latin1");
  h.write(type, 2, "latin1");
  h.writeUInt32BE(payload.length, 3);
  return Buffer.concat([h, payload]);
}

export interface ExecFrame {
  id: number;
  timeoutMs: number;
  argv: string[];
  env: string[];
  workdir: string;
  user: string;
  /** The command's whole stdin (an 'E' frame; at most MAX_EXEC_STDIN bytes); absent: /dev/null. */
  stdin?: Buffer;
}

/** Bytes of stdin an exec frame carries at most (the agent feeds them to an empty pipe at once). */
export const MAX_EXEC_STDIN = 49_152;

/** An exec request; throws RangeError when it cannot fit one frame (the caller checks sizes first). */
export function encodeExec(e: ExecFrame): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt32BE(e.id >>> 0, 0);
  head.writeUInt32BE(Math.max(0, Math.min(e.timeoutMs, 0xffff_ffff)) >>> 0, 4);
  head.writeUInt16BE(e.argv.length, 8);
  head.writeUInt16BE(e.env.length, 10);
  const strings = [e.workdir, e.user, ...e.argv, ...e.env].map((s) => Buffer.from(s + "\0"));
  if (e.stdin && e.stdin.length > MAX_EXEC_STDIN) throw new RangeError(`stdin is ${e.stdin.length} bytes, at most ${MAX_EXEC_STDIN}`);
  const payload = Buffer.concat([head, ...strings, ...(e.stdin ? [e.stdin] : [])]);
  if (payload.length > MAX_FRAME) throw new RangeError(`exec request is ${payload.length} bytes, at most ${MAX_FRAME}`);
  return encodeFrame(e.stdin ? "E" : "e", payload);
}

/** An interactive exec ('i'): stdin streamed by 'd' frames, or a terminal of rows x cols. */
export function encodeInteractiveExec(e: Omit<ExecFrame, "stdin"> & { tty: boolean; rows: number; cols: number }): Buffer {
  const head = Buffer.alloc(17);
  head.writeUInt32BE(e.id >>> 0, 0);
  head.writeUInt32BE(Math.max(0, Math.min(e.timeoutMs, 0xffff_ffff)) >>> 0, 4);
  head.writeUInt16BE(e.argv.length, 8);
  head.writeUInt16BE(e.env.length, 10);
  head[12] = e.tty ? 1 : 0;
  head.writeUInt16BE(clampU16(e.rows), 13);
  head.writeUInt16BE(clampU16(e.cols), 15);
  const payload = Buffer.concat([head, ...[e.workdir, e.user, ...e.argv, ...e.env].map((s) => Buffer.from(s + "\0"))]);
  if (payload.length > MAX_FRAME) throw new RangeError(`exec request is ${payload.length} bytes, at most ${MAX_FRAME}`);
  return encodeFrame("i", payload);
}

const clampU16 = (n: number): number => Math.max(0, Math.min(0xffff, Math.trunc(n)));

/** A frame of `type` carrying an exec id and bytes ('d' stdin data, 'c' close stdin). */
export function encodeIdData(type: "d" | "c", id: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const p = Buffer.alloc(4 + data.length);
  p.writeUInt32BE(id >>> 0, 0);
  data.copy(p, 4);
  return encodeFrame(type, p);
}

/** A terminal's new size ('w'). */
export function encodeResize(id: number, rows: number, cols: number): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(id >>> 0, 0);
  p.writeUInt16BE(clampU16(rows), 4);
  p.writeUInt16BE(clampU16(cols), 6);
  return encodeFrame("w", p);
}

export function encodeU32Pair(type: "k" | "s", a: number, b: number): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(a >>> 0, 0);
  p.writeUInt32BE(b >>> 0, 4);
  return encodeFrame(type, p);
}

/** The end of an exec: exit status (code) or the signal that killed it, and whether the time limit hit. */
export function parseExit(p: Buffer): { id: number; code?: number; signal?: number; timedOut: boolean } | undefined {
  if (p.length !== 9) return undefined;
  const raw = p.readInt32BE(4);
  return { id: p.readUInt32BE(0), ...(raw >= 0 ? { code: raw } : { signal: -raw }), timedOut: p[8] === 1 };
}

/**
 * Splits the guest's byte stream into frames. Keeps at most one frame plus a header buffered;
 * garbage before a "ZG" and frames over MAX_FRAME are dropped and counted in `dropped`.
 */
export class FrameDecoder {
  #buf: Buffer = Buffer.alloc(0);
  dropped = 0;

  push(chunk: Buffer): Frame[] {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    const out: Frame[] = [];
    let at = 0;
    while (this.#buf.length - at >= 2) {
      if (this.#buf[at] !== 0x5a || this.#buf[at + 1] !== 0x47) {
        const next = this.#buf.indexOf(0x5a, at + 1);
        const skip = next < 0 ? this.#buf.length - at : next - at;
        this.dropped += skip;
        at += skip;
        continue;
      }
      if (this.#buf.length - at < HDR) break;
      const len = this.#buf.readUInt32BE(at + 3);
      if (len > MAX_FRAME) {
        this.dropped += 2;
        at += 2;
        continue;
      }
      if (this.#buf.length - at < HDR + len) break;
      out.push({ type: String.fromCharCode(this.#buf[at + 2]!), payload: this.#buf.subarray(at + HDR, at + HDR + len) });
      at += HDR + len;
    }
    this.#buf = Buffer.from(this.#buf.subarray(at));
    return out;
  }
}
