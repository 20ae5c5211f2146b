/**
 * The RESP framing guard: reads a client's bytes BEFORE the parser does and refuses a request at
 * the header that passes a bound, so the parser (redis-parser, which recurses once per nesting
 * level and allocates what a header declares) only ever sees requests within the bounds:
 * nesting depth ≤ `maxDepth` (a request is level 1), at most `maxArgs` elements per array, a bulk
 * string at most `maxBulkBytes`, all bulk strings of one request together at most
 * `maxRequestBytes`, a header line at most 32 bytes, every bulk string followed by CRLF, and
 * only arrays (`*`) and bulk strings (`$`) — no null, empty or other types. It is streaming: a
 * header or a body may be cut anywhere between chunks; its state is a few numbers and one stack
 * of at most `maxDepth` counts, whatever the input.
 *
 * @example
 * ```ts
 * const guard = new RespGuard({ maxDepth: 1, maxArgs: 64, maxBulkBytes: 8 << 20, maxRequestBytes: 9 << 20 });
 * guard.scan(Buffer.from("*1\r\n$4\r\nPING\r\n")); // undefined: pass it to the parser
 * guard.scan(Buffer.from("*1\r\n*1\r\n"));          // "nested arrays: at most depth 1 …": close the connection
 * ```
 */

export interface RespGuardLimits {
  /** Array nesting allowed: 1 = a request is a flat array of bulk strings. */
  maxDepth: number;
  maxArgs: number;
  maxBulkBytes: number;
  maxRequestBytes: number;
}

/** Longest header line accepted: a type byte, a sign, 19 digits and CRLF fit with room to spare. */
export const MAX_HEADER_BYTES = 32;

const CR = 13;
const LF = 10;

const DASH = 45;
const ZERO = 48;
const STAR = 42;
const DOLLAR = 36;

export class RespGuard {
  private readonly limits: RespGuardLimits;
  /** Elements still expected by each open array, outermost first (length ≤ maxDepth). */
  private readonly open: number[] = [];
  /** A header line cut by a chunk boundary: its bytes so far (≤ MAX_HEADER_BYTES). */
  private readonly head = Buffer.alloc(MAX_HEADER_BYTES);
  private headLen = 0;
  /** Bytes of bulk body still to skip, then the CRLF still expected (2, 1 or 0). */
  private body = 0;
  private crlf = 0;
  /** Declared bulk bytes of the request being read. */
  private requestBytes = 0;
  private failed: string | undefined;

  constructor(limits: RespGuardLimits) {
    this.limits = limits;
  }

  /** Reads `chunk` on from where the last one ended: undefined when within bounds, else why not (and so on after). */
  scan(chunk: Buffer): string | undefined {
    if (this.failed) return this.failed;
    let i = 0;
    while (i < chunk.length) {
      if (this.body > 0) {
        const take = Math.min(this.body, chunk.length - i);
        this.body -= take;
        i += take;
        continue;
      }
      if (this.crlf > 0) {
        if (chunk[i] !== (this.crlf === 2 ? CR : LF)) return this.fail("a bulk string is not followed by CRLF (its declared length is wrong)");
        this.crlf--;
        i++;
        if (this.crlf === 0) this.elementDone();
        continue;
      }
      const nl = chunk.indexOf(LF, i);
      const end = nl === -1 ? chunk.length : nl + 1;
      if (this.headLen + (end - i) > MAX_HEADER_BYTES) return this.fail(`a header line longer than ${MAX_HEADER_BYTES} bytes`);
      let why: string | undefined;
      if (nl === -1) {
        chunk.copy(this.head, this.headLen, i, end);
        this.headLen += end - i;
      } else if (this.headLen === 0) {
        why = this.onHeader(chunk, i, end);
      } else {
        chunk.copy(this.head, this.headLen, i, end);
        why = this.onHeader(this.head, 0, this.headLen + (end - i));
        this.headLen = 0;
      }
      if (why) return this.fail(why);
      i = end;
    }
    return undefined;
  }

  /** True between requests (nothing of a request read yet). */
  get idle(): boolean {
    return this.open.length === 0 && this.headLen === 0 && this.body === 0 && this.crlf === 0;
  }

  private fail(why: string): string {
    this.failed = why;
    return why;
  }

  /** One header line, `b[start, end)` ending in LF: `*<n>\r\n` or `$<n>\r\n`, n = -?\d{1,19}. */
  private onHeader(b: Buffer, start: number, end: number): string | undefined {
    const type = b[start];
    let p = start + 1;
    const negative = b[p] === DASH;
    if (negative) p++;
    const digits = end - 2 - p;
    let n = 0;
    let wellFormed = (type === STAR || type === DOLLAR) && b[end - 2] === CR && digits >= 1 && digits <= 19;
    for (let q = p; wellFormed && q < end - 2; q++) {
      const d = (b[q] as number) - ZERO;
      if (d < 0 || d > 9) wellFormed = false;
      n = n * 10 + d;
    }
    if (negative) n = -n;
    if (!wellFormed) return this.open.length === 0 ? "a request is an array of bulk strings (`*<n>` first)" : "an argument is a bulk string (`$<length>`)";
    const { maxDepth, maxArgs, maxBulkBytes, maxRequestBytes } = this.limits;
    if (type === STAR) {
      if (this.open.length >= maxDepth) return `nested arrays: at most depth ${maxDepth}`;
      if (n < 1 || n > maxArgs) return `an array of ${n} elements: 1 to ${maxArgs} allowed`;
      if (this.open.length === 0) this.requestBytes = 0;
      this.open.push(n);
      return undefined;
    }
    if (this.open.length === 0) return "a request is an array of bulk strings (`*<n>` first)";
    if (n < 0 || n > maxBulkBytes) return `a bulk string of ${n} bytes: 0 to ${maxBulkBytes} allowed`;
    this.requestBytes += n;
    if (this.requestBytes > maxRequestBytes) return `a request of more than ${maxRequestBytes} bytes`;
    this.body = n;
    this.crlf = 2;
    return undefined;
  }

  /** One element of the innermost array is complete; closes the arrays it completes. */
  private elementDone(): void {
    while (this.open.length) {
      const last = this.open.length - 1;
      this.open[last] = (this.open[last] as number) - 1;
      if ((this.open[last] as number) > 0) return;
      this.open.pop();
    }
  }
}
