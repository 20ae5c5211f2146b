/**
 * Checks a raw Snappy stream without writing its output: walks the tags exactly as a decoder does
 * (header length, literal bounds, copy offsets within what was produced, total equal to the
 * header) and returns the uncompressed length, or -1 when a decoder would refuse the stream.
 *
 * Verify needs to know that a block decompresses, not its bytes: the decompressed bytes are a pure
 * function of the compressed stream, which GCM's tag and the signed id already fix. Decompressing
 * into a fresh 512 KiB buffer per block cost verify ~2.8 ms per MiB (page faults of the new buffer
 * included), this walk ~0.75 ms. Same idea as C++ Snappy's `IsValidCompressedBuffer`. The
 * differential test (snappy-validate.test.ts) holds it to the native decoder's verdict on valid,
 * truncated, extended and mutated streams.
 *
 * @example
 * ```ts
 * snappyValidLength(snappy.compress(Buffer.alloc(1000)), 1 << 20); // 1000
 * snappyValidLength(Buffer.from([5, 0]), 1 << 20);                // -1 (literal runs past the end)
 * ```
 */

/**
 * The uncompressed length a raw Snappy stream's header claims (its leading varint, at most 5
 * bytes and 2^32 - 1), or -1 when the header is cut or too long. Read it before handing a stream
 * to a decoder that allocates what the header claims.
 *
 * @example
 * ```ts
 * snappyDeclaredLength(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])); // 4294967295
 * ```
 */
export function snappyDeclaredLength(src: Uint8Array): number {
  let len = 0;
  for (let i = 0, shift = 0; i < 5 && i < src.length; i++, shift += 7) {
    const b = src[i]!;
    len += (b & 0x7f) * 2 ** shift;
    if (!(b & 0x80)) return len > 0xffffffff ? -1 : len;
  }
  return -1;
}

/** Uncompressed length of a valid raw Snappy stream of at most `maxLength` bytes, else -1. */
export function snappyValidLength(src: Uint8Array, maxLength: number): number {
  const n = src.length;
  let i = 0;
  let len = 0;
  let shift = 0;
  let b: number;
  do {
    if (i >= n || shift > 28) return -1;
    b = src[i++]!;
    len += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80);
  if (len > maxLength || len > 0xffffffff) return -1;
  // One pass over the tags. `out` only grows, so "output longer than the header" is caught by the
  // final comparison as surely as by a check per tag (the native decoder stops at the first).
  let out = 0;
  while (i < n) {
    const tag = src[i]!;
    switch (tag & 3) {
      case 0: {
        // Literal: length-1 in the tag, or in the 1-4 little-endian bytes after it (tag values 60-63).
        let l = tag >>> 2;
        if (l < 60) {
          i += l + 2;
        } else {
          const extra = l - 59;
          if (i + 1 + extra > n) return -1;
          l = src[i + 1]!;
          if (extra > 1) l |= src[i + 2]! << 8;
          if (extra > 2) l |= src[i + 3]! << 16;
          if (extra > 3) l += src[i + 4]! * 16777216;
          i += 2 + extra + l;
        }
        if (i > n) return -1;
        out += l + 1;
        break;
      }
      // Copies: length and offset back into the output; offset 0 or before the start is refused.
      case 1: {
        if (i + 2 > n) return -1;
        const off = ((tag >>> 5) << 8) | src[i + 1]!;
        if (off === 0 || off > out) return -1;
        out += ((tag >>> 2) & 7) + 4;
        i += 2;
        break;
      }
      case 2: {
        if (i + 3 > n) return -1;
        const off = src[i + 1]! | (src[i + 2]! << 8);
        if (off === 0 || off > out) return -1;
        out += (tag >>> 2) + 1;
        i += 3;
        break;
      }
      default: {
        if (i + 5 > n) return -1;
        const off = (src[i + 1]! | (src[i + 2]! << 8) | (src[i + 3]! << 16)) + src[i + 4]! * 16777216;
        if (off === 0 || off > out) return -1;
        out += (tag >>> 2) + 1;
        i += 5;
      }
    }
  }
  return out === len ? len : -1;
}
