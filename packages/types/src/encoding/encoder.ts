/**
 * The canonical binary encoder behind deployment hashes. Every value is typed and length-prefixed,
 * so two different deployments can never encode to the same bytes. (The reference concatenates
 * fields without separators, where "ab"+"c" and "a"+"bc" collide; zgrid does not.)
 *
 * Layout (all integers big-endian):
 * - `u64(n)`: 8 bytes, n a non-negative safe integer;
 * - `bool(b)`: 1 byte, 0 or 1;
 * - `str(s)`: u32 byte length + UTF-8 bytes;
 * - `list(items)`: u32 count + each item;
 * - `map(record)`: u32 count + (str key, value) sorted by key (UTF-16 code unit order);
 * - `optional(v)`: 1 byte 0 (absent) or 1 + the value.
 *
 * @example
 * ```ts
 * const bytes = new Encoder().str("zgrid").u64(7).bool(true).bytes();
 * // 00000005 7a67726964 0000000000000007 01
 * ```
 */
export class Encoder {
  private chunks: Uint8Array[] = [];
  private length = 0;
  private static readonly utf8 = new TextEncoder();

  u64(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`u64 needs a non-negative safe integer, got ${n}`);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(n));
    return this.push(b);
  }

  u32(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`u32 out of range: ${n}`);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n);
    return this.push(b);
  }

  bool(v: boolean): this {
    return this.push(Uint8Array.of(v ? 1 : 0));
  }

  str(s: string): this {
    const b = Encoder.utf8.encode(s);
    return this.u32(b.length).push(b);
  }

  list<T>(items: readonly T[], each: (enc: this, item: T) => void): this {
    this.u32(items.length);
    for (const item of items) each(this, item);
    return this;
  }

  map<T>(record: Readonly<Record<string, T>>, each: (enc: this, value: T) => void): this {
    const keys = Object.keys(record).sort();
    this.u32(keys.length);
    for (const k of keys) {
      this.str(k);
      each(this, record[k] as T);
    }
    return this;
  }

  optional<T>(value: T | undefined | null, each: (enc: this, value: T) => void): this {
    if (value === undefined || value === null) return this.push(Uint8Array.of(0));
    this.push(Uint8Array.of(1));
    each(this, value);
    return this;
  }

  /** The encoded bytes so far. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  private push(b: Uint8Array): this {
    this.chunks.push(b);
    this.length += b.length;
    return this;
  }
}
