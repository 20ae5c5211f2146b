/**
 * Test helper: the head of a request frame that claims `length` body bytes, to send frames that
 * never finish (see wire/frame-codec.ts for the layout).
 *
 * @example
 * ```ts
 * stream.send(frameHead(1 << 20, 1)); // then less than 1 MiB of body, and nothing more
 * ```
 */
export function frameHead(length: number, id: number): Uint8Array {
  const out: number[] = [];
  for (let v = length; ; v = Math.floor(v / 128)) {
    if (v < 128) {
      out.push(v);
      break;
    }
    out.push((v % 128) | 0x80);
  }
  return Uint8Array.from([...out, 1, id]);
}

